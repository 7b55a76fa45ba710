import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { freshTrailBucket, harness, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { TokenBucket } from '../../src/throttle/token-bucket.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { silentLogger } from '../../src/log/logger.js';

const keys = {
  a: trailKey('2026/11/21', '20261121T1000Z', 'aaaa'),
  b: trailKey('2026/11/22', '20261122T1000Z', 'bbbb'),
  c: trailKey('2026/11/23', '20261123T1000Z', 'cccc'),
};

describe('marker resets', () => {
  let h: Harness;
  const later = new ShiftedClock(2 * HOUR);
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', Object.entries(keys).map(([name, key]) => ({ key, body: cloudTrailFile(name, 1) })));
    h = harness();
    await h.poll(testSource(), later);
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0', 'c-0']);
    h.sink.lines.length = 0;
  });
  afterEach(() => h.close());

  it('--beginning pulls everything again at the next poll', async () => {
    h.store.requestReset('trail', { mode: 'beginning' });
    expect(h.store.getSource('trail')!.resetRequest).to.deep.equal({ mode: 'beginning' });
    await h.poll(testSource(), later);
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0', 'c-0']);
    expect(h.store.getSource('trail')!.resetRequest).to.equal(null);
  });

  it('--after KEY pulls the keys after KEY again', async () => {
    h.store.requestReset('trail', { mode: 'after', key: keys.a });
    await h.poll(testSource(), later);
    expect(h.sink.eventIds().sort()).to.deep.equal(['b-0', 'c-0']);
  });

  it('--since DATE pulls the objects modified since DATE again', async () => {
    h.store.requestReset('trail', { mode: 'since', sinceMs: Date.now() + 10 * HOUR });
    await h.poll(testSource(), later);
    expect(h.sink.lines).to.have.length(0);
    h.store.requestReset('trail', { mode: 'since', sinceMs: Date.now() - 10 * HOUR });
    await h.poll(testSource(), later);
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0', 'c-0']);
  });
});

describe('failures keep the marker honest', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('retries a corrupt object, quarantines it after max_attempts, and delivers every other object', async () => {
    await putObjects('trail-bucket', [
      { key: keys.a, body: cloudTrailFile('a', 2) },
      { key: keys.b, body: Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage that is not deflate')]) },
      { key: keys.c, body: cloudTrailFile('c', 2) },
    ]);
    const source = testSource({ max_attempts: 2 });
    const clock = new ShiftedClock(2 * HOUR);
    const first = await h.poll(source, clock);
    expect(first.status).to.equal('partial');
    expect(first.objectsRetrying).to.equal(1);
    expect(first.errors[0]).to.contain(keys.b).and.contain('gzip');
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'a-1', 'c-0', 'c-1']);
    // The failing object holds the marker back until it is quarantined.
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(keys.a);

    clock.offsetMs += 2 * HOUR; // past the retry backoff
    const second = await h.poll(source, clock);
    expect(second.objectsFailed).to.equal(1);
    expect(h.store.failedObjects('trail').map((row) => row.key)).to.deep.equal([keys.b]);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(keys.c);
    expect(h.sink.lines).to.have.length(4);
  });

  it('names the key of an object that is not a CloudTrail file', async () => {
    await putObjects('trail-bucket', [{ key: keys.a, body: gzipSync('{"NotRecords": []}') }, { key: keys.b, body: gzipSync('{"Records": [') }]);
    const result = await h.poll(testSource());
    expect(result.errors.join('\n')).to.contain(`${keys.a}: not a CloudTrail file`).and.contain(`${keys.b}: not valid JSON`);
  });

  it('pauses on an output failure without moving the marker, and recovers at the next poll', async () => {
    await putObjects('trail-bucket', [
      { key: keys.a, body: cloudTrailFile('a', 1) },
      { key: keys.b, body: cloudTrailFile('b', 1) },
    ]);
    const clock = new ShiftedClock(2 * HOUR);
    h.sink.failing = true;
    const failed = await h.poll(testSource({ concurrency: 1 }), clock);
    expect(failed.status).to.equal('failed');
    expect(failed.errors[0]).to.contain('memory sink told to fail');
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal('');
    expect(h.store.failedObjects('trail')).to.have.length(0);

    h.sink.failing = false;
    const recovered = await h.poll(testSource({ concurrency: 1 }), clock);
    expect(recovered.status).to.equal('ok');
    expect(h.sink.eventIds()).to.deep.equal(['a-0', 'b-0']);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(keys.b);
  });

  it('resumes an interrupted object after its last delivered batch, repeating nothing', async () => {
    await putObjects('trail-bucket', [{ key: keys.a, body: cloudTrailFile('big', 1600) }]);
    const controller = new AbortController();
    const bucket = createS3Bucket(s3BucketOptionsFor(testSource()));
    // Abort as soon as the second batch is delivered: a shutdown in the middle of an object.
    const original = h.sink.write.bind(h.sink);
    h.sink.write = async (lines) => {
      await original(lines);
      if (h.sink.writes === 2) controller.abort();
    };
    const interrupted = await pollSource(testSource(), { store: h.store, sink: h.sink, bucket, clock: new ShiftedClock(), log: silentLogger }, controller.signal);
    expect(interrupted.status).to.equal('aborted');
    expect(h.sink.lines).to.have.length(1000);
    h.sink.write = original;
    h.reopen();
    await h.poll(testSource());
    const ids = h.sink.eventIds();
    expect(ids).to.have.length(1600);
    expect(new Set(ids).size).to.equal(1600);
    bucket.destroy();
  });

  it('honours eps_throttle: a poll of 2,000 events at 500 EPS waits three seconds of clock time', async () => {
    await putObjects('trail-bucket', [{ key: keys.a, body: cloudTrailFile('t', 2000) }]);
    // Time passes only by the throttle's sleeps, so the wait is exact, whatever this machine's speed.
    const start = Date.now();
    const clock = { slept: 0, now: () => start + clock.slept, sleep: async (ms: number) => void (clock.slept += ms) };
    const throttle = new TokenBucket(500, clock);
    const bucket = createS3Bucket(s3BucketOptionsFor(testSource()));
    await pollSource(testSource({ eps_throttle: 500 }), { store: h.store, sink: h.sink, bucket, clock, log: silentLogger, throttle }, new AbortController().signal);
    bucket.destroy();
    expect(h.sink.lines).to.have.length(2000);
    // The bucket starts with one second of tokens (500); the other 1500 events cost 3 s of waiting.
    expect(throttle.waitedMs).to.equal(3000);
    expect(clock.slept).to.equal(throttle.waitedMs);
  });
});
