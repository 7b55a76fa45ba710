/** Unit cases of issue 9: timers, patterns, text encodings, compressions, torn lines, config limits. */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { IntervalSchedule, MAX_TIMER_MS, type Timers } from '../../src/schedule/schedule.js';
import { compileKeyPattern } from '../../src/util/key-pattern.js';
import { decode } from '../../src/formats/decode.js';
import { parseObject } from '../../src/formats/parse-object.js';
import { cloudtrailFormat } from '../../src/formats/cloudtrail.js';
import { linesFormat } from '../../src/formats/lines.js';
import { readLines } from '../../src/formats/lines-reader.js';
import type { Format, ParsedItem } from '../../src/formats/types.js';
import { FileSink } from '../../src/sinks/file.js';
import { shortMarker } from '../../src/cli/status.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, ObjectDataError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/source.js';
import { recordsOf } from '../helpers/memory-sink.js';

async function parse(format: Format, bytes: Buffer): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of parseObject(format, Readable.from([bytes]), { key: 'k' })) items.push(item);
  return items;
}

describe('hardening (issue 9)', () => {
  it('IntervalSchedule waits a 30-day recurrence in timer steps Node can hold, and polls again only when it is due', async () => {
    let now = 0;
    const pending: { fire: () => void; at: number }[] = [];
    const requested: number[] = [];
    const timers: Timers = {
      set(fire, ms) {
        requested.push(ms);
        const timer = { fire, at: now + ms };
        pending.push(timer);
        return timer;
      },
      clear(timer) {
        pending.splice(pending.indexOf(timer as (typeof pending)[number]), 1);
      },
    };
    const thirtyDays = 30 * 86_400_000;
    const schedule = new IntervalSchedule(thirtyDays, () => now, timers);
    let polls = 0;
    let polled: () => void = () => {};
    schedule.start(async () => {
      polls += 1;
      polled();
    });
    /** Runs the due timers, in time order, up to `until`, letting each poll finish. */
    const advance = async (until: number) => {
      for (;;) {
        pending.sort((a, b) => a.at - b.at);
        const next = pending[0];
        if (!next || next.at > until) break;
        pending.shift();
        now = next.at;
        const done = new Promise<void>((resolve) => (polled = resolve));
        next.fire();
        await Promise.race([done, new Promise((resolve) => setImmediate(resolve))]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      now = until;
    };
    await advance(0);
    expect(polls).to.equal(1);
    await advance(thirtyDays - 1);
    expect(polls).to.equal(1);
    await advance(thirtyDays);
    expect(polls).to.equal(2);
    schedule.stop();
    expect(requested.every((ms) => ms <= MAX_TIMER_MS)).to.equal(true);
  });

  it('key patterns run in linear time (RE2): catastrophic backtracking is no risk; lookaround and backreferences are refused', () => {
    const pattern = compileKeyPattern('(a+)+$');
    expect(pattern.test(`${'a'.repeat(5000)}!`)).to.equal(false);
    expect(pattern.test('aaa')).to.equal(true);
    const named = compileKeyPattern('AWSLogs/(?<account>\\d{12})/CloudTrail/(?<region>[^/]+)/');
    expect(named.groups('AWSLogs/111122223333/CloudTrail/us-east-1/x')).to.deep.equal({ account: '111122223333', region: 'us-east-1' });
    expect(() => compileKeyPattern('(?=x)a')).to.throw(/unsupported Perl syntax: `\(\?=`/);
    expect(() => compileKeyPattern('(a)\\1')).to.throw(/invalid escape sequence: `\\1`/);
  });

  it('decode drops a UTF-8 byte-order mark and reads UTF-16 (LE and BE) as UTF-8', async () => {
    const document = JSON.stringify({ Records: [{ eventID: 'é-1', eventTime: '2026-11-23T10:00:00Z' }] });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(document)]);
    for (const bytes of [bom, gzipSync(bom)]) {
      const items = await parse(cloudtrailFormat, bytes);
      expect(items.map((item) => ('event' in item ? item.event.eventID : item))).to.deep.equal(['é-1']);
    }
    const lines = await parse(linesFormat, Buffer.from('\ufefffirst\nsecond\n'));
    expect(lines.map((item) => ('event' in item ? item.event.message : item))).to.deep.equal(['first', 'second']);
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(document, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    be[0] = 0xfe;
    be[1] = 0xff;
    for (const bytes of [le, be, gzipSync(le)]) {
      const items = await parse(cloudtrailFormat, bytes);
      expect(items.map((item) => ('event' in item ? item.event.eventID : item))).to.deep.equal(['é-1']);
    }
  });

  it('decode reads zstd and bzip2 by their first bytes under any name, and every member of a multi-member gzip file', async () => {
    const plain = readFileSync(new URL('../fixtures/vpcflow/accept-reject-traffic.log', import.meta.url), 'utf8');
    const read = async (bytes: Buffer, key: string) => {
      const chunks: Buffer[] = [];
      // Small chunks: the decompressors must carry their state across them.
      const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, index) => bytes.subarray(index * 7, (index + 1) * 7));
      for await (const chunk of await decode(Readable.from(pieces), key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    };
    expect(await read(readFileSync(new URL('../fixtures/compression/accept-reject-traffic.log.zst', import.meta.url)), 'flows/a.log.gz')).to.equal(plain);
    expect(await read(readFileSync(new URL('../fixtures/compression/accept-reject-traffic.log.bz2', import.meta.url)), 'flows/a.log')).to.equal(plain);
    const [head, ...tail] = plain.split('\n');
    expect(await read(Buffer.concat([gzipSync(`${head}\n`), gzipSync(tail.join('\n'))]), 'flows/joined.gz')).to.equal(plain);
    // Plain text under a .gz name is read as the text it is.
    expect(await read(Buffer.from(plain), 'flows/mislabelled.log.gz')).to.equal(plain);
  });

  it('decode names xz and 7z bytes, bytes that are neither compressed nor text under a compressed name, and broken zstd and bzip2 streams', async () => {
    const failureOf = async (bytes: Buffer, key = 'logs/x.json.gz') => {
      try {
        for await (const chunk of await decode(Readable.from([bytes]), key)) void chunk;
      } catch (error) {
        return error as Error;
      }
      return undefined;
    };
    for (const [name, head] of [['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], ['7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]]] as const) {
      const failure = await failureOf(Buffer.concat([Buffer.from(head), Buffer.alloc(64)]));
      expect(failure?.message).to.equal(`logs/x.json.gz: this object is ${name}-compressed; s3pull reads gzip, zstd, bzip2, zip and uncompressed objects`);
    }
    const binary = await failureOf(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]));
    expect(binary).to.be.instanceOf(ObjectDataError);
    expect(binary?.message).to.equal('logs/x.json.gz: named as compressed, but its bytes are none of gzip, zstd, bzip2, zip, xz, 7z, nor text (they begin 00 01 02 03 04 05 06 07)');
    const zstd = await failureOf(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0xff)]));
    expect(zstd).to.be.instanceOf(ObjectDataError);
    expect(zstd?.message).to.match(/^logs\/x\.json\.gz: not a valid zstd stream \(/);
    const bzip2 = await failureOf(Buffer.concat([Buffer.from([0x42, 0x5a, 0x68, 0x39]), Buffer.alloc(64, 0x17)]));
    expect(bzip2).to.be.instanceOf(ObjectDataError);
    expect(bzip2?.message).to.match(/^logs\/x\.json\.gz: not a valid bzip2 stream \(/);
    const truncated = readFileSync(new URL('../fixtures/compression/accept-reject-traffic.log.zst', import.meta.url));
    expect((await failureOf(truncated.subarray(0, truncated.length - 20)))?.message).to.match(/not a valid zstd stream/);
  });

  it('a line over the limit is dropped while it streams: the line path holds no more than a chunk of it', async () => {
    const chunk = 1024 * 1024;
    let peak = 0;
    const base = process.memoryUsage().arrayBuffers;
    async function* lines() {
      yield Buffer.from('first\n');
      // 200 MiB in fresh chunks: held, they would show in arrayBuffers; dropped, they are collected.
      for (let index = 0; index < 200; index += 1) {
        yield Buffer.alloc(chunk, 0x61);
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      }
      yield Buffer.from('\nlast\n');
    }
    const items = [];
    for await (const item of readLines(Readable.from(lines()), 8 * chunk)) items.push(item);
    expect(items).to.deep.equal([{ line: 'first', number: 1 }, { tooLong: 200 * chunk, number: 2 }, { line: 'last', number: 3 }]);
    expect(peak, `peak ${Math.round(peak / chunk)} MiB`).to.be.below(100 * chunk);
  });

  it('FileSink cuts a partial last line (a write cut off by a crash) when it opens the file, so every line is whole JSON', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    writeFileSync(file, '{"id":"1"}\n{"id":"2","tor');
    const sink = new FileSink(file);
    await sink.write(recordsOf(['{"id":"3"}']));
    await sink.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).to.equal('');
    expect(lines.slice(0, -1).map((line) => (JSON.parse(line) as { id: string }).id)).to.deep.equal(['1', 'id0']);
  });

  it('shortMarker keeps the date folders and the file name end, and drops the partition prefix', () => {
    const key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/111122223333_CloudTrail_us-east-1_20261123T1005Z_gkuyIJtLhiT90uem.json.gz';
    const short = shortMarker(key, 'AWSLogs/111122223333/CloudTrail/us-east-1/', 44);
    expect(short).to.have.length(44);
    expect(short.startsWith('2026/11/23/')).to.equal(true);
    expect(short.endsWith('T1005Z_gkuyIJtLhiT90uem.json.gz')).to.equal(true);
    expect(shortMarker(key, 'AWSLogs/111122223333/CloudTrail/us-east-1/', 200)).to.equal(key.slice(42));
  });

  it('validate refuses an absurd recurrence and names the line of an unknown field', () => {
    const dir = tempDir('s3pull-conf-');
    writeFileSync(path.join(dir, 's3pull.yaml'), 'state: state.db\n');
    mkdirSync(path.join(dir, 'sources.d'));
    writeFileSync(path.join(dir, 'sources.d', 'trail.yaml'), 'id: trail\nbucket: acme-trail\nregion: us-east-1\nformat: cloudtrail\nrecurrence: 99999D\neps_trottle: 5\n');
    let problems: string[] = [];
    try {
      loadConfig(dir, {});
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.some((problem) => /field recurrence <99999D>: recurrence must be at most 366d$/.test(problem))).to.equal(true);
    expect(problems.some((problem) => /trail\.yaml:6: unknown field eps_trottle/.test(problem))).to.equal(true);
  });
});
