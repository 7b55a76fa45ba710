/**
 * The poll and the object path against small fakes of the project's own interfaces (a bucket in
 * memory, a memory sink, a fake clock) and a real SQLite state file: the logic, without S3.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ParseThreads } from '../../src/pipeline/parse-threads.js';
import path from 'node:path';
import { FakeBucket } from '../helpers/fake-bucket.js';
import { MemorySink } from '../helpers/memory-sink.js';
import { ShiftedClock, HOUR } from '../helpers/harness.js';
import { tempDir } from '../helpers/source.js';
import { sourceSchema } from '../../src/config/schema.js';
import type { LoadedSource } from '../../src/config/load.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { pullObject } from '../../src/pipeline/pull-object.js';
import { LedgerCheckpoint } from '../../src/pipeline/ledger-checkpoint.js';
import { singleBucketGetter } from '../../src/aws/s3-clients.js';
import { discoverPartitions } from '../../src/poll/partitions.js';
import { listInDateOrder } from '../../src/poll/date-order.js';
import { Deduplicator } from '../../src/pipeline/dedup.js';
import { DeliveryRetrier, RetryAfterError } from '../../src/sinks/retry.js';
import { TokenBucket } from '../../src/throttle/token-bucket.js';
import { cloudtrailFormat } from '../../src/formats/cloudtrail.js';
import { silentLogger } from '../../src/log/logger.js';
import { SinkError } from '../../src/util/errors.js';

const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
const key = (day: string, time: string, suffix: string) => `${PREFIX}${day}/111122223333_CloudTrail_us-east-1_${time}_${suffix}.json.gz`;
const trail = (marker: string, records: number) =>
  gzipSync(JSON.stringify({ Records: Array.from({ length: records }, (_, index) => ({ eventTime: '2026-11-23T10:00:00Z', eventID: `${marker}-${index}`, recipientAccountId: '111122223333' })) }));

function source(overrides: Record<string, unknown> = {}): LoadedSource {
  const parsed = sourceSchema.parse({ id: 'trail', bucket: 'fake-bucket', prefix: PREFIX, region: 'us-east-1', format: 'cloudtrail', eps_throttle: 0, ...overrides });
  return { ...parsed, file: 'test', proxy: 'none' };
}

describe('the poll and the object path, with fakes', () => {
  let store: Store;
  let bucket: FakeBucket;
  let sink: MemorySink;
  beforeEach(() => {
    store = openSqliteStore(path.join(tempDir(), 'state.db'));
    bucket = new FakeBucket(2);
    sink = new MemorySink();
  });
  afterEach(() => store.close());
  const poll = (src: LoadedSource, clock = new ShiftedClock()) => pollSource(src, { store, sink, bucket, clock, log: silentLogger }, new AbortController().signal);

  it('pollSource pulls in key order, settles the marker past objects older than late_window, and lists from it next time', async () => {
    const old = new Date(Date.now() - 3 * HOUR);
    bucket.put(key('2026/11/23', '20261123T1000Z', 'a'), trail('a', 2), old);
    bucket.put(key('2026/11/23', '20261123T1005Z', 'b'), trail('b', 1), old);
    bucket.put(key('2026/11/23', '20261123T1010Z', 'c'), trail('c', 1), new Date());
    const first = await poll(source());
    expect(first).to.include({ status: 'ok', objectsDone: 3, events: 4 });
    // Objects start in key order; with concurrency 4 they may finish in any order, each in its own.
    expect(bucket.gets).to.deep.equal(['a', 'b', 'c'].map((suffix, index) => key('2026/11/23', `20261123T10${String(index * 5).padStart(2, '0')}Z`, suffix)));
    expect(sink.eventIds().filter((id) => id.startsWith('a-'))).to.deep.equal(['a-0', 'a-1']);
    expect(sink.eventIds().sort()).to.deep.equal(['a-0', 'a-1', 'b-0', 'c-0']);
    // c is younger than the late window: the marker stops before it.
    expect(store.partitions('trail')[0]!.settledKey).to.equal(key('2026/11/23', '20261123T1005Z', 'b'));
    bucket.listings.length = 0;
    const second = await poll(source());
    expect(second.objectsDone).to.equal(0);
    expect(bucket.listings).to.deep.equal([{ prefix: PREFIX, startAfter: key('2026/11/23', '20261123T1005Z', 'b') }]);
  });

  it('pollSource quarantines an object after max_attempts and then lets the marker pass it', async () => {
    const old = new Date(Date.now() - 3 * HOUR);
    bucket.put(key('2026/11/23', '20261123T1000Z', 'bad'), 'not gzip, not json', old);
    bucket.put(key('2026/11/23', '20261123T1005Z', 'good'), trail('g', 1), old);
    const clock = new ShiftedClock();
    const first = await poll(source({ max_attempts: 2 }), clock);
    expect(first).to.include({ status: 'partial', objectsRetrying: 1, objectsDone: 1 });
    expect(store.partitions('trail')[0]!.settledKey).to.equal('');
    clock.offsetMs += 2 * 60_000; // past the first backoff (1 min)
    const second = await poll(source({ max_attempts: 2 }), clock);
    expect(second.objectsFailed).to.equal(1);
    expect(store.failedObjects('trail').map((row) => row.key)).to.deep.equal([key('2026/11/23', '20261123T1000Z', 'bad')]);
    expect(store.partitions('trail')[0]!.settledKey).to.equal(key('2026/11/23', '20261123T1005Z', 'good'));
  });

  it('pullObject resumes after the last delivered batch when the output failed in the middle', async () => {
    const objectKey = key('2026/11/23', '20261123T1000Z', 'big');
    bucket.put(objectKey, trail('x', 1200));
    const info = { bucket: 'fake-bucket', key: objectKey, etag: bucket.objects.get(objectKey)!.etag, size: 1, lastModified: new Date() };
    const clock = new ShiftedClock();
    const context = {
      sourceId: 'trail', formatConfig: { format: 'cloudtrail' as const }, format: cloudtrailFormat,
      getter: singleBucketGetter(bucket), sink, checkpoint: new LedgerCheckpoint(store, 'trail', () => PREFIX, 5, clock),
      throttle: new TokenBucket(0, clock), clock, log: silentLogger, signal: new AbortController().signal,
    };
    store.openSource('trail', 'scope', null, Date.now());
    sink.failAfterWrites = 2;
    let failure: unknown;
    await pullObject(context, info).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(SinkError);
    expect(store.ledger('trail', 'fake-bucket', [objectKey]).get(objectKey)).to.include({ status: 'in_progress', events: 1000 });
    sink.failAfterWrites = Infinity;
    const outcome = await pullObject(context, info);
    expect(outcome.events).to.equal(1200);
    // The retry read the whole object again (gzip cannot start in the middle): all its bytes.
    expect(outcome.decodedBytes).to.equal(gunzipSync(bucket.objects.get(objectKey)!.body).length);
    expect(sink.eventIds()).to.deep.equal(Array.from({ length: 1200 }, (_, index) => `x-${index}`));
  });

  it('pullObject with hashObjects records the SHA-256 of all the decompressed bytes, also after a resume and through a parse thread', async () => {
    const objectKey = key('2026/11/23', '20261123T1000Z', 'hashed');
    // A UTF-8 byte-order mark is part of what CloudTrail hashed, though no format sees it.
    const body = gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), gunzipSync(trail('h', 1200))]));
    bucket.put(objectKey, body);
    const expected = createHash('sha256').update(gunzipSync(body)).digest('hex');
    const info = { bucket: 'fake-bucket', key: objectKey, etag: bucket.objects.get(objectKey)!.etag, size: 1, lastModified: new Date() };
    const clock = new ShiftedClock();
    const context = {
      sourceId: 'trail', formatConfig: { format: 'cloudtrail' as const }, format: cloudtrailFormat,
      getter: singleBucketGetter(bucket), sink, checkpoint: new LedgerCheckpoint(store, 'trail', () => PREFIX, 5, clock),
      throttle: new TokenBucket(0, clock), clock, log: silentLogger, signal: new AbortController().signal, hashObjects: true,
    };
    store.openSource('trail', 'scope', null, Date.now());
    sink.failAfterWrites = 1;
    await pullObject(context, info).catch(() => undefined);
    expect(store.ledger('trail', 'fake-bucket', [objectKey]).get(objectKey)).to.include({ status: 'in_progress', sha256: null });
    sink.failAfterWrites = Infinity;
    expect((await pullObject(context, info)).sha256).to.equal(expected);
    expect(store.ledger('trail', 'fake-bucket', [objectKey]).get(objectKey)).to.include({ status: 'done', sha256: expected });
    const threads = new ParseThreads(1);
    try {
      store.forgetObject('trail', info);
      expect((await pullObject({ ...context, parseThreads: threads }, info)).sha256).to.equal(expected);
      expect(store.ledger('trail', 'fake-bucket', [objectKey]).get(objectKey)?.sha256).to.equal(expected);
    } finally {
      await threads.close();
    }
    // Without hashObjects nothing is hashed.
    store.forgetObject('trail', info);
    expect((await pullObject({ ...context, hashObjects: false }, info)).sha256).to.equal(undefined);
  });

  it('pollSource skips and counts a record or line over max_record_bytes, naming it, and delivers the rest', async () => {
    const big = 'x'.repeat(3000);
    const objectKey = key('2026/11/23', '20261123T1000Z', 'big');
    bucket.put(objectKey, gzipSync(JSON.stringify({ Records: [{ eventID: 'ok-0' }, { eventID: 'big', blob: big }, { eventID: 'ok-2' }] })), new Date(Date.now() - 3 * HOUR));
    const warnings: unknown[] = [];
    const log = { ...silentLogger, enabled: () => true, child: () => log, warn: (message: string, fields?: unknown) => warnings.push({ message, fields }) } as unknown as typeof silentLogger;
    const result = await pollSource(source({ max_record_bytes: '2KiB' }), { store, sink, bucket, clock: new ShiftedClock(), log }, new AbortController().signal);
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 2, badLines: 1 });
    expect(sink.eventIds()).to.deep.equal(['ok-0', 'ok-2']);
    expect(warnings).to.deep.include({ message: 'bad line skipped', fields: { line: 2, reason: `record 2 of ${JSON.stringify({ eventID: 'big', blob: big }).length} bytes is longer than max_record_bytes (2048)`, event: 'bad_line' } });

    const linesKey = 'logs/2026/11/23/app.log.gz';
    bucket.put(linesKey, gzipSync(`short\n${big}\nshort again\n`), new Date(Date.now() - 3 * HOUR));
    const lines = await poll(source({ id: 'app', prefix: 'logs/', format: 'lines', max_record_bytes: 2048 }));
    expect(lines).to.include({ objectsDone: 1, events: 2, badLines: 1 });
  });

  it('pullObject skips and counts a record nested too deeply to deliver, naming its number, and delivers the rest', async () => {
    const objectKey = key('2026/11/23', '20261123T1000Z', 'deep');
    const deep = `{"Records":[{"eventID":"ok-0"},{"eventID":"deep","x":${'['.repeat(100_000)}${']'.repeat(100_000)}},{"eventID":"ok-2"}]}`;
    bucket.put(objectKey, gzipSync(deep), new Date(Date.now() - 3 * HOUR));
    const result = await poll(source());
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 2, badLines: 1 });
    expect(sink.eventIds()).to.deep.equal(['ok-0', 'ok-2']);
  });

  it('discoverPartitions finds one partition per account and region, and listInDateOrder lists unpadded days in date order', async () => {
    bucket.put('AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/a.json.gz', 'x');
    bucket.put('AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/23/b.json.gz', 'x');
    bucket.put('AWSLogs/444455556666/CloudTrail/us-east-1/2026/11/23/c.json.gz', 'x');
    bucket.put('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/23/d.json.gz', 'x');
    const found = await discoverPartitions(bucket, 'AWSLogs/', new AbortController().signal);
    expect(found.map((partition) => partition.prefix)).to.deep.equal([
      'AWSLogs/111122223333/CloudTrail/eu-west-1/',
      'AWSLogs/111122223333/CloudTrail/us-east-1/',
      'AWSLogs/444455556666/CloudTrail/us-east-1/',
    ]);

    const config = new FakeBucket();
    for (const day of ['9', '10', '11']) config.put(`Config/2026/11/${day}/x-${day}.json.gz`, 'x');
    const listed: string[] = [];
    for await (const page of listInDateOrder(config, 'Config/', 'Config/2026/11/9/x-9.json.gz', new AbortController().signal)) listed.push(...page.map((object) => object.key));
    expect(listed).to.deep.equal(['Config/2026/11/10/x-10.json.gz', 'Config/2026/11/11/x-11.json.gz']);
  });

  it('Deduplicator: repeats within the window are dropped, keys on their way count, a released key may come again', () => {
    store.openSource('trail', 'scope', null, 0);
    const dedup = new Deduplicator(store, 'trail', HOUR);
    const first = dedup.claim(['a', 'b', 'a', undefined], 1000);
    expect(first.repeats).to.deep.equal([false, false, true, false]);
    // 'b' is on its way in the first batch: a second object may not deliver it too.
    expect(dedup.claim(['b', 'c'], 1000).repeats).to.deep.equal([true, false]);
    store.recordProgress('trail', { bucket: 'fake-bucket', key: 'k' }, { events: 0, badLines: 0, duplicates: 0, dedupKeys: ['a'] }, 1000);
    dedup.release(['a', 'b', 'c']);
    expect(dedup.claim(['a', 'b'], 2000).repeats).to.deep.equal([true, false]);
    // Past the window, a committed key is new again.
    expect(dedup.claim(['a'], 1000 + HOUR + 1).repeats).to.deep.equal([false]);
  });

  it('DeliveryRetrier retries with doubling backoff (Retry-After honoured), then gives up with a SinkError', async () => {
    const clock = { time: 0, sleeps: [] as number[], now() { return this.time; }, async sleep(ms: number) { this.sleeps.push(ms); this.time += ms; } };
    const retrier = new DeliveryRetrier({ clock, log: silentLogger, target: 'test', timeoutMs: 10_000, firstDelayMs: 500 });
    let calls = 0;
    const value = await retrier.run(async () => {
      calls += 1;
      if (calls === 1) throw new RetryAfterError('busy', 2000);
      if (calls < 4) throw new Error('down');
      return 'delivered';
    });
    expect(value).to.equal('delivered');
    expect(clock.sleeps).to.deep.equal([2000, 1000, 2000]);
    let failure: unknown;
    await retrier.run(async () => { throw new Error('still down'); }).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(SinkError);
    expect((failure as Error).message).to.match(/^test: still down \(tried \d+ times over \d+ s; the marker stays/);
  });
});
