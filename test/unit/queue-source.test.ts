/**
 * The queue runner's decisions on small fakes of the project's own interfaces (a queue, a bucket
 * in memory, a memory sink, a fake clock) and a real SQLite state file: when a message is
 * deleted, when it is handed back and after how long, and when visibility stops being extended.
 */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { FakeBucket } from '../helpers/fake-bucket.js';
import { MemorySink } from '../helpers/memory-sink.js';
import type { Clock } from '../../src/util/clock.js';
import { tempDir } from '../helpers/source.js';
import { sourceSchema } from '../../src/config/schema.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import { QueueSource } from '../../src/queue/queue-source.js';
import { isQueued } from '../../src/queue/options.js';
import type { QueueAttributes, QueueMessage, SqsQueue } from '../../src/aws/sqs-queue.js';
import { singleBucketGetter } from '../../src/aws/s3-clients.js';
import { TokenBucket } from '../../src/throttle/token-bucket.js';
import { ReceiptInvalidError, TransientS3Error } from '../../src/util/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { recordEventsInto, type EventMetrics } from '../../src/telemetry/events.js';

const KEY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/a.json.gz';
const trail = (records: number) => gzipSync(JSON.stringify({ Records: Array.from({ length: records }, (_, index) => ({ eventTime: '2026-11-23T10:00:00Z', eventID: `e-${index}` })) }));
const notification = (key = KEY) => JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', awsRegion: 'us-east-1', eventTime: '2026-11-23T10:00:00Z', s3: { bucket: { name: 'fake-bucket' }, object: { key, size: 10 } } }] });

/** A queue that hands out its messages once each and records what was done with them. */
class FakeQueue implements SqsQueue {
  readonly url = 'https://sqs.us-east-1.amazonaws.com/111122223333/fake';
  readonly deleted: string[] = [];
  readonly visibility: { receipt: string; seconds: number }[] = [];
  failVisibility: unknown;
  onVisibility?: () => void;
  constructor(readonly messages: string[]) {}
  async receive(max: number): Promise<QueueMessage[]> {
    const taken = this.messages.splice(0, max);
    return taken.map((body, index) => ({ messageId: `m${index}`, receiptHandle: `r-${body.length}-${index}`, body, sentMs: 0, receiveCount: 1 }));
  }
  async delete(receipt: string): Promise<void> {
    this.deleted.push(receipt);
  }
  async deleteBatch(receipts: string[]): Promise<Map<string, string>> {
    this.deleted.push(...receipts);
    this.batches.push(receipts.length);
    return new Map();
  }
  readonly batches: number[] = [];
  async changeVisibility(receipt: string, seconds: number): Promise<void> {
    this.visibility.push({ receipt, seconds });
    this.onVisibility?.();
    if (this.failVisibility) throw this.failVisibility;
  }
  async attributes(): Promise<QueueAttributes> {
    return { visibilityTimeoutS: 30, messages: this.messages.length, messagesInFlight: 0, messagesDelayed: 0, retentionS: 345_600 };
  }
  async send(): Promise<void> {}
  destroy(): void {}
}

/** Real time, but every pause is a millisecond: the visibility loop runs at once, without starving I/O. */
class HurriedClock implements Clock {
  constructor(public offsetMs = 0) {}
  now(): number {
    return Date.now() + this.offsetMs;
  }
  sleep(_ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(resolve, 1);
      signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
    });
  }
}

function capture(lines: string[]): Logger {
  const make = (context: Record<string, unknown>): Logger => ({
    error: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    info: (message) => lines.push(message),
    debug: () => {},
    child: (fields) => make({ ...context, ...fields }),
    context,
  });
  return make({});
}

describe('the queue runner', () => {
  let store: Store;
  let bucket: FakeBucket;
  let sink: MemorySink;
  let clock: HurriedClock;

  beforeEach(() => {
    store = openSqliteStore(path.join(tempDir(), 'state.db'));
    bucket = new FakeBucket();
    sink = new MemorySink();
    clock = new HurriedClock();
  });
  afterEach(() => store.close());

  async function drain(queue: FakeQueue, overrides: Record<string, unknown> = {}, log: Logger = capture([]), run: { signal?: AbortSignal; untilEmpty?: boolean } = {}) {
    const parsed = sourceSchema.parse({
      id: 'q', region: 'us-east-1', format: 'cloudtrail', eps_throttle: 0,
      collection: { type: 'sqs', queue_url: queue.url, wait_time: '0s', visibility_timeout: '30s' },
      ...overrides,
    });
    const source = { ...parsed, file: 'test', proxy: 'none' as const };
    if (!isQueued(source)) throw new Error('not an SQS source');
    return new QueueSource(source, { store, sink, queue, getter: singleBucketGetter(bucket), clock, log, throttle: new TokenBucket(0, clock) }).run(run.signal ?? new AbortController().signal, { untilEmpty: run.untilEmpty ?? true });
  }

  it('counts its messages and objects through the events as its own statistics count them', async () => {
    const counted = new Map<string, number>();
    const add = (name: string, labels: Record<string, string>, by: number) => {
      const series = `${name}${JSON.stringify(labels)}`;
      counted.set(series, (counted.get(series) ?? 0) + by);
    };
    const metrics: EventMetrics = { inc: (name, labels, by = 1) => add(name, labels, by), set: () => {}, observe: (name, labels) => add(`${name}_count`, labels, 1) };
    recordEventsInto(metrics);
    try {
      const bad = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/bad.json.gz';
      bucket.put(KEY, trail(3));
      bucket.put(bad, 'not gzip, not json');
      const queue = new FakeQueue([notification(), notification(bad), '{"not":"a notification"}']);
      const result = await drain(queue, { max_attempts: 3 });
      expect(result.stats).to.include({ received: 3, deleted: 1, returned: 1, unknown: 1, objectsDone: 1, objectsRetrying: 1 });
      expect(Object.fromEntries(counted)).to.deep.include({
        's3pull_sqs_messages_total{"source":"q","outcome":"received"}': 3,
        's3pull_sqs_messages_total{"source":"q","outcome":"deleted"}': 1,
        's3pull_sqs_messages_total{"source":"q","outcome":"returned"}': 1,
        's3pull_sqs_messages_total{"source":"q","outcome":"not_understood"}': 1,
        's3pull_objects_total{"source":"q","outcome":"done"}': 1,
        's3pull_objects_total{"source":"q","outcome":"failed"}': 1,
        's3pull_events_total{"source":"q"}': 3,
        's3pull_polls_total{"source":"q","status":"partial"}': 1,
        's3pull_poll_duration_seconds_count{"source":"q"}': 1,
      });
    } finally {
      recordEventsInto(undefined);
    }
  });

  it('deletes a message once its object is delivered', async () => {
    bucket.put(KEY, trail(3));
    const queue = new FakeQueue([notification()]);
    const result = await drain(queue);
    expect(result.stats).to.include({ objectsDone: 1, deleted: 1, returned: 0 });
    expect(queue.deleted).to.have.length(1);
    expect(sink.eventIds()).to.deep.equal(['e-0', 'e-1', 'e-2']);
  });

  it("hands a message back for the object's backoff when the object failed (not yet quarantined)", async () => {
    bucket.put(KEY, 'not gzip, not json');
    const queue = new FakeQueue([notification()]);
    const result = await drain(queue, { max_attempts: 3 });
    expect(result.stats).to.include({ deleted: 0, returned: 1, objectsRetrying: 1 });
    // The ledger's first backoff is one minute: the message comes back when the retry is due.
    expect(queue.visibility.at(-1)!.seconds).to.equal(60);
  });

  it('hands a message back after 30 s when reading failed for reasons that are not the object’s', async () => {
    bucket.put(KEY, trail(1));
    bucket.failGet.set(KEY, Array.from({ length: 4 }, () => new TransientS3Error('SlowDown')));
    const queue = new FakeQueue([notification()]);
    const result = await drain(queue);
    expect(result.stats).to.include({ deleted: 0, returned: 1 });
    expect(queue.visibility.at(-1)!.seconds).to.equal(30);
    expect(store.ledger('q', 'fake-bucket', [KEY]).get(KEY)).to.include({ attempts: 0, status: 'in_progress' });
  });

  it('stops extending visibility on ReceiptHandleIsInvalid and says so', async () => {
    bucket.put(KEY, trail(3));
    const queue = new FakeQueue([notification()]);
    queue.failVisibility = new ReceiptInvalidError('the message is no longer held');
    // The delivery waits for the first extension, so that the message is in flight when it fails.
    let extended!: () => void;
    const firstExtension = new Promise<void>((resolve) => (extended = resolve));
    queue.onVisibility = () => extended();
    const write = sink.write.bind(sink);
    sink.write = async (records) => {
      await firstExtension;
      await new Promise((resolve) => setImmediate(resolve));
      return write(records);
    };
    const lines: string[] = [];
    const result = await drain(queue, {}, capture(lines));
    expect(queue.visibility).to.have.length(1);
    expect(lines.some((line) => line.startsWith('visibility can no longer be extended'))).to.equal(true);
    expect(result.stats.objectsDone).to.equal(1);
  });

  it('deletes settled messages ten to a request', async () => {
    const keys = Array.from({ length: 25 }, (_, index) => `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/o${index}.json.gz`);
    for (const key of keys) bucket.put(key, trail(1));
    const queue = new FakeQueue(keys.map((key) => notification(key)));
    const result = await drain(queue, { concurrency: 25, collection: { type: 'sqs', queue_url: queue.url, wait_time: '0s', workers: 25, max_messages: 10 } });
    expect(result.stats).to.include({ deleted: 25, objectsDone: 25 });
    expect(queue.deleted).to.have.length(25);
    expect(queue.batches.length, `batches of ${queue.batches.join(', ')}`).to.be.below(25);
    expect(Math.max(...queue.batches)).to.be.at.most(10);
  });

  it("a key that is gone as decoded is tried once as the message wrote it; only the reading that named the object keeps a ledger row", async () => {
    // A producer that did not form-encode: the object's key holds a literal '+'.
    const literal = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/a+b.json.gz';
    bucket.put(literal, trail(2));
    const queue = new FakeQueue([notification(literal)]);
    const result = await drain(queue);
    expect(result.stats).to.include({ objectsDone: 1, objectsFailed: 0, deleted: 1 });
    expect(sink.eventIds()).to.deep.equal(['e-0', 'e-1']);
    const decoded = literal.replace('+', ' ');
    expect(bucket.gets).to.deep.equal([decoded, literal]);
    expect(store.ledger('q', 'fake-bucket', [decoded, literal]).size).to.equal(1);
    expect(store.failedObjects('q')).to.deep.equal([]);
    expect(store.getSource('q')).to.include({ objectsFailed: 0, objectsDone: 1 });
  });

  it('a service that receives for weeks prunes its ledger as it goes, not only when it stops', async () => {
    bucket.put(KEY, trail(1));
    // Delivered 20 days ago: past history_retention (7 days) and SQS's longest retention (14).
    const past = new HurriedClock(-20 * 86_400_000);
    const earlier = clock;
    clock = past;
    await drain(new FakeQueue([notification()]));
    clock = earlier;
    expect(store.ledger('q', 'fake-bucket', [KEY]).size).to.equal(1);
    // Now a service: each empty long poll takes ten minutes of its clock; it is stopped once the row went.
    const controller = new AbortController();
    const idle = new FakeQueue([]);
    idle.receive = async () => {
      clock.offsetMs += 10 * 60_000;
      await new Promise((resolve) => setImmediate(resolve));
      if (store.ledger('q', 'fake-bucket', [KEY]).size === 0 || clock.offsetMs > 3 * 3_600_000) controller.abort();
      return [];
    };
    await drain(idle, {}, capture([]), { signal: controller.signal, untilEmpty: false });
    expect(store.ledger('q', 'fake-bucket', [KEY]).size, 'rows pruned while receiving').to.equal(0);
    expect(clock.offsetMs).to.be.at.most(2 * 3_600_000);
  });

  it('once takes what the queue held when it began, and ends even while the queue is fed without pause', async () => {
    const keys = ['x', 'y', 'z'].map((name) => `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/${name}.json.gz`);
    for (const key of keys) bucket.put(key, trail(1));
    const queue = new FakeQueue(keys.map((key) => notification(key)));
    const receive = queue.receive.bind(queue);
    let added = 0;
    queue.receive = async (max) => {
      const taken = await receive(max);
      // A producer that never stops: a new message after every receive.
      added += 1;
      bucket.put(`AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/24/n${added}.json.gz`, trail(1));
      queue.messages.push(notification(`AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/24/n${added}.json.gz`));
      await new Promise((resolve) => setImmediate(resolve));
      return taken;
    };
    const result = await drain(queue, { collection: { type: 'sqs', queue_url: queue.url, wait_time: '0s', max_messages: 1 } });
    expect(result.stats.received).to.equal(3);
    expect(result.stats.objectsDone).to.equal(3);
  });

  it('a redelivered message whose objects are done is deleted without reading them again', async () => {
    bucket.put(KEY, trail(2));
    await drain(new FakeQueue([notification()]));
    bucket.gets = [];
    const again = new FakeQueue([notification()]);
    const result = await drain(again);
    expect(result.stats).to.include({ deleted: 1, objectsDone: 0 });
    expect(bucket.gets).to.deep.equal([]);
    expect(sink.lines).to.have.length(2);
  });

  it('an object outside buckets, prefix or file_pattern is not read; its message is deleted and the object counted as skipped', async () => {
    bucket.put(KEY, trail(2));
    const queue = new FakeQueue([notification(), notification('elsewhere/x.json.gz')]);
    const result = await drain(queue, { prefix: 'AWSLogs/', collection: { type: 'sqs', queue_url: queue.url, wait_time: '0s', buckets: ['other-bucket'] } });
    expect(result.stats).to.include({ objectsSkipped: 2, deleted: 2, objectsDone: 0 });
    expect(bucket.gets).to.deep.equal([]);
  });
});
