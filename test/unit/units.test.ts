import { expect } from 'chai';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../../src/util/duration.js';
import { TokenBucket } from '../../src/throttle/token-bucket.js';
import { SettledKeyWalker } from '../../src/poll/settle.js';
import { skipReason } from '../../src/poll/skip-rules.js';
import { eventId, EnvelopeWriter } from '../../src/pipeline/envelope.js';
import { FileSink } from '../../src/sinks/file.js';
import { IntervalSchedule } from '../../src/schedule/schedule.js';
import { createLogger, registerSecret } from '../../src/log/logger.js';
import { PassThrough } from 'node:stream';
import { tempDir } from '../helpers/source.js';
import { recordsOf } from '../helpers/memory-sink.js';

class FakeClock {
  time = 0;
  sleeps: number[] = [];
  now() {
    return this.time;
  }
  async sleep(ms: number) {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

describe('building blocks', () => {
  it('parseDuration reads 15M, 15 m, 2H, 1D, 90s and refuses the rest', () => {
    expect(['15M', '15 m', '2H', '1D', '90s', ' 5 S '].map(parseDuration)).to.deep.equal([900_000, 900_000, 7_200_000, 86_400_000, 90_000, 5_000]);
    expect(['15', 'M', '1.5h', '2w', ''].map(parseDuration)).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
  });

  describe('TokenBucket', () => {
    it('lets one second of events through, then paces at the rate', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(100, clock);
      await bucket.take(100);
      expect(clock.sleeps).to.deep.equal([]);
      await bucket.take(50);
      expect(clock.sleeps).to.deep.equal([500]);
      await bucket.take(100);
      expect(clock.sleeps).to.deep.equal([500, 1000]);
    });

    it('refills while idle, up to one second of tokens', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(100, clock);
      await bucket.take(100);
      clock.time += 60_000;
      await bucket.take(100);
      await bucket.take(100);
      expect(clock.sleeps).to.deep.equal([1000]);
    });

    it('is off at 0', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(0, clock);
      await bucket.take(1_000_000);
      expect(clock.sleeps).to.deep.equal([]);
    });
  });

  describe('SettledKeyWalker', () => {
    it('moves to the last finished key older than the late window, and stops at an unfinished one', () => {
      const walker = new SettledKeyWalker(1000);
      walker.visit('a', 100, true);
      walker.visit('b', 2000, true); // finished but recent: cannot be the marker itself
      walker.visit('c', 500, true);
      walker.visit('d', 100, false); // not delivered: nothing after it may be passed
      walker.visit('e', 100, true);
      expect(walker.settledKey).to.equal('c');
      expect(walker.isBlocked).to.equal(true);
    });
  });

  it('skipReason: folders, empty objects, digests, pattern, start', () => {
    const object = (key: string, size = 10, modified = 5000) => ({ key, size, etag: 'e', lastModified: new Date(modified) });
    const pattern = /\.json\.gz$/;
    expect(skipReason(object('p/2026/'), pattern, null)).to.equal('folder');
    expect(skipReason(object('p/a.json.gz', 0), pattern, null)).to.equal('empty');
    expect(skipReason(object('AWSLogs/1/CloudTrail-Digest/us-east-1/a.json.gz'), pattern, null)).to.equal('digest');
    expect(skipReason(object('p/a.txt'), pattern, null)).to.equal('pattern');
    expect(skipReason(object('AWSLogs/111122223333/Config/ConfigWritabilityCheckFile'), /.*/, null)).to.equal('check_file');
    expect(skipReason(object('p/a.json.gz'), pattern, 6000)).to.equal('before_start');
    expect(skipReason(object('p/a.json.gz'), pattern, 4000)).to.equal(undefined);
  });

  it('EnvelopeWriter writes the envelope of DESIGN.md with the event id', () => {
    const writer = new EnvelopeWriter({ sourceId: 's', source: 's', bucket: 'b', key: 'k "q"', etag: 'e', format: 'cloudtrail', fallbackTime: '2026-01-01T00:00:00.000Z' });
    expect(JSON.parse(writer.line(3, { a: 1 }, '2026-11-23T10:00:00Z'))).to.deep.equal({
      id: eventId('b', 'k "q"', 'e', 3), time: '2026-11-23T10:00:00Z', source: 's', bucket: 'b', key: 'k "q"', format: 'cloudtrail', event: { a: 1 },
    });
    expect(JSON.parse(writer.line(4, {}, undefined)).time).to.equal('2026-01-01T00:00:00.000Z');
    // Derived fields sit beside the event; a gateway name keeps the source id beside it.
    const gateway = new EnvelopeWriter({ sourceId: 's', source: '111122223333-us-east-1', bucket: 'b', key: 'k', etag: 'e', format: 'cloudtrail', fallbackTime: '2026-01-01T00:00:00.000Z' });
    const record = gateway.record(0, { a: 1 }, undefined, { category: 'read', outcome: 'success' });
    expect(JSON.parse(record.line)).to.include({ source: '111122223333-us-east-1', source_id: 's', category: 'read', outcome: 'success' });
    expect(record).to.include({ id: eventId('b', 'k', 'e', 0), source: '111122223333-us-east-1', sourceId: 's', time: '2026-01-01T00:00:00.000Z' });
  });

  it('eventId is deterministic in bucket, key, ETag and position', () => {
    expect(eventId('b', 'k', 'e', 1)).to.match(/^[0-9a-f]{32}$/);
    expect(eventId('b', 'k', 'e', 1)).to.equal(eventId('b', 'k', 'e', 1));
    expect(new Set([eventId('b', 'k', 'e', 1), eventId('b', 'k', 'e', 2), eventId('b', 'k', 'f', 1), eventId('b', 'j', 'e', 1)]).size).to.equal(4);
  });

  it('FileSink appends lines and reopens the path after logrotate moved the file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'events.ndjson');
    const sink = new FileSink(file);
    await sink.write(recordsOf(['{"n":1}', '{"n":2}']));
    renameSync(file, `${file}.1`);
    await sink.write(recordsOf(['{"n":3}'])); // still the old, moved file
    await sink.reopen();
    await sink.write(recordsOf(['{"n":4}']));
    await sink.close();
    const linesOf = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line).event.n);
    expect(linesOf(readFileSync(`${file}.1`, 'utf8'))).to.deep.equal([1, 2, 3]);
    expect(linesOf(readFileSync(file, 'utf8'))).to.deep.equal([4]);
  });

  it('FileSink reports a path it cannot write as a sink error', async () => {
    // A regular file where a folder should be: unwritable even for root.
    const blocker = path.join(tempDir(), 'not-a-folder');
    writeFileSync(blocker, '');
    const sink = new FileSink(path.join(blocker, 'events.ndjson'));
    let error: Error | undefined;
    try {
      await sink.write(recordsOf(['1']));
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.name).to.equal('SinkError');
    expect(error?.message).to.contain(path.join(blocker, 'events.ndjson'));
  });

  it('IntervalSchedule polls at start, then one interval after each poll began, never overlapping', async () => {
    let now = 0;
    const schedule = new IntervalSchedule(60_000, () => now);
    const started: number[] = [];
    await new Promise<void>((resolve) => {
      schedule.start(async () => {
        started.push(now);
        now += 90_000; // a poll longer than the interval
        if (started.length === 2) {
          schedule.stop();
          resolve();
        }
      });
    });
    expect(started).to.deep.equal([0, 90_000]);
  });

  it('the logger masks registered secrets and secret-named fields', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const log = createLogger({ level: 'debug', format: 'json', stream });
    registerSecret('wJalrXUtnFEMI-logger-test');
    const written = new Promise((resolve) => stream.once('data', resolve));
    log.error('request failed with wJalrXUtnFEMI-logger-test in it', { secret_access_key: 'abc', detail: 'x wJalrXUtnFEMI-logger-test' });
    await written;
    const text = chunks.join('');
    expect(text).to.contain('request failed');
    expect(text).to.not.contain('wJalrXUtnFEMI-logger-test');
    expect(text).to.not.contain('"abc"');
  });
});
