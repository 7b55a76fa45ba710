/**
 * Collection by SQS notification, against moto sending the notifications S3 itself would send
 * (S3 → SQS, S3 → SNS → SQS, S3 → EventBridge → SQS), a real SQLite state file and a memory sink.
 */
import { expect } from 'chai';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { resetMoto, motoEndpoint } from '../helpers/moto.js';
import { createBucket, putObjects } from '../helpers/s3.js';
import { createQueue, drain, notifyQueue, notifyThroughEventBridge, notifyThroughSns, queueDepth, sendMessage } from '../helpers/sqs.js';
import { testSource, tempDir } from '../helpers/source.js';
import { MemorySink } from '../helpers/memory-sink.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import type { LoadedSource } from '../../src/config/load.js';
import { QueueSource, type QueueRunResult } from '../../src/queue/queue-source.js';
import { isQueued } from '../../src/queue/options.js';
import { defaultQueueFactory } from '../../src/service/collector.js';
import { S3Clients } from '../../src/aws/s3-clients.js';
import { s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { TokenBucket } from '../../src/throttle/token-bucket.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import type { Sink } from '../../src/sinks/types.js';
import { parseNotification, decodeFormKey } from '../../src/queue/notifications.js';
import { Collector } from '../../src/service/collector.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { testKey, writeDigest } from '../helpers/digests.js';
import Database from 'better-sqlite3';
import { collectorConfig } from '../helpers/harness.js';

const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/';
const trail = (marker: string, records: number) =>
  gzipSync(JSON.stringify({ Records: Array.from({ length: records }, (_, index) => ({ eventTime: '2026-11-23T10:00:00Z', eventID: `${marker}-${index}`, recipientAccountId: '111122223333' })) }));

function sqsSource(queueUrl: string, overrides: Record<string, unknown> = {}, collection: Record<string, unknown> = {}): LoadedSource {
  return testSource({ bucket: undefined, prefix: '/', collection: { type: 'sqs', queue_url: queueUrl, wait_time: '0s', visibility_timeout: '30s', ...collection }, ...overrides });
}

class Consumer {
  readonly store: Store;
  readonly sink: MemorySink;
  constructor(readonly stateFile = path.join(tempDir(), 'state.db'), sink = new MemorySink()) {
    this.store = openSqliteStore(this.stateFile);
    this.sink = sink;
  }

  async drain(source: LoadedSource, options: { sink?: Sink; log?: Logger; signal?: AbortSignal; untilEmpty?: boolean } = {}): Promise<QueueRunResult> {
    if (!isQueued(source)) throw new Error('not an SQS source');
    const queue = defaultQueueFactory(source, undefined);
    const clients = new S3Clients(s3BucketOptionsFor(source));
    try {
      return await new QueueSource(source, {
        store: this.store,
        sink: options.sink ?? this.sink,
        queue,
        getter: clients,
        clock: systemClock,
        log: options.log ?? silentLogger,
        throttle: new TokenBucket(0, systemClock),
      }).run(options.signal ?? new AbortController().signal, { untilEmpty: options.untilEmpty ?? true });
    } finally {
      queue.destroy();
      clients.destroy();
    }
  }

  close(): void {
    this.store.close();
  }
}

describe('collection by SQS notification', function () {
  this.timeout(120_000);
  let consumer: Consumer;

  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    consumer = new Consumer();
  });
  afterEach(() => consumer.close());

  it('S3 → SQS: pulls every announced object, deletes the s3:TestEvent and each message after delivery; keys with spaces and plus signs', async () => {
    const queue = await createQueue('trail-events');
    await notifyQueue('trail-bucket', queue.arn);
    const keys = [`${PREFIX}a.json.gz`, `${PREFIX}with space.json.gz`, `${PREFIX}with+plus.json.gz`];
    await putObjects('trail-bucket', keys.map((key, index) => ({ key, body: trail(`o${index}`, 3) })));
    const result = await consumer.drain(sqsSource(queue.url));
    expect(result.status).to.equal('ok');
    expect(result.stats).to.include({ testEvents: 1, objectsDone: 3, events: 9 });
    expect(result.stats.deleted).to.equal(4);
    expect(consumer.sink.eventIds().sort()).to.deep.equal(['o0-0', 'o0-1', 'o0-2', 'o1-0', 'o1-1', 'o1-2', 'o2-0', 'o2-1', 'o2-2']);
    expect(new Set(consumer.sink.events().map((event) => event.key))).to.deep.equal(new Set(keys));
    expect(await queueDepth(queue.url)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(consumer.store.ledger('trail', 'trail-bucket', keys).size).to.equal(3);
  });

  it('S3 → SNS → SQS, with and without raw delivery, and S3 → EventBridge → SQS: the same objects, other detail types deleted and counted', async () => {
    for (const shape of ['sns', 'sns-raw', 'eventbridge'] as const) {
      await resetMoto();
      await createBucket('trail-bucket');
      const queue = await createQueue(`trail-${shape}`);
      if (shape === 'eventbridge') await notifyThroughEventBridge('trail-bucket', queue.arn);
      else await notifyThroughSns('trail-bucket', queue.arn, shape === 'sns-raw');
      await putObjects('trail-bucket', [{ key: `${PREFIX}${shape} x+y.json.gz`, body: trail(shape, 2) }]);
      const fresh = new Consumer();
      const result = await fresh.drain(sqsSource(queue.url));
      expect(result.stats.objectsDone, shape).to.equal(1);
      expect(fresh.sink.eventIds(), shape).to.deep.equal([`${shape}-0`, `${shape}-1`]);
      expect(fresh.sink.events()[0]!.key, shape).to.equal(`${PREFIX}${shape} x+y.json.gz`);
      expect(await queueDepth(queue.url), shape).to.deep.equal({ visible: 0, inFlight: 0 });
      fresh.close();
    }
  });

  it("CloudTrail's own SNS notification (s3Bucket + s3ObjectKey[]) names the files it delivered", async () => {
    const queue = await createQueue('trail-ct');
    await putObjects('trail-bucket', [{ key: `${PREFIX}ct-1.json.gz`, body: trail('ct1', 1) }, { key: `${PREFIX}ct-2.json.gz`, body: trail('ct2', 1) }]);
    const notification = JSON.stringify({ s3Bucket: 'trail-bucket', s3ObjectKey: [`${PREFIX}ct-1.json.gz`, `${PREFIX}ct-2.json.gz`] });
    await sendMessage(queue.url, JSON.stringify({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:us-east-1:111122223333:trail', Message: notification }));
    const result = await consumer.drain(sqsSource(queue.url));
    expect(result.stats.objectsDone).to.equal(2);
    expect(consumer.sink.eventIds().sort()).to.deep.equal(['ct1-0', 'ct2-0']);
  });

  it('a message that is none of the known shapes is not lost: it stays for the redrive policy, or moves to the configured dead-letter queue', async () => {
    const queue = await createQueue('trail-odd', { VisibilityTimeout: '1' });
    await sendMessage(queue.url, 'hello, not a notification');
    const lines: string[] = [];
    const log = capture(lines);
    const kept = await consumer.drain(sqsSource(queue.url, {}, { visibility_timeout: '10s' }), { log });
    expect(kept.stats).to.include({ unknown: 1, deleted: 0 });
    expect(lines.join('\n')).to.match(/message not understood: left in the queue .*message_id.*hello, not a notification/);
    const left = await queueDepth(queue.url);
    expect(left.visible + left.inFlight).to.equal(1);

    const dlq = await createQueue('trail-odd-dlq');
    await drain(queue.url).catch(() => []);
    await sendMessage(queue.url, '{"what":"else"}');
    const moved = await consumer.drain(sqsSource(queue.url, {}, { dead_letter_queue_url: dlq.url }));
    expect(moved.stats).to.include({ unknown: 1, deleted: 1 });
    expect(await drain(dlq.url)).to.deep.equal(['{"what":"else"}']);
  });

  it('filters before download: an object file_pattern skips is never read, its message is deleted and it is counted', async () => {
    const queue = await createQueue('trail-filter');
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: `${PREFIX}keep.json.gz`, body: trail('keep', 1) }, { key: `${PREFIX}skip.txt`, body: 'not even gzip' }]);
    const result = await consumer.drain(sqsSource(queue.url, { file_pattern: '\\.json\\.gz$' }));
    expect(result.stats).to.include({ objectsDone: 1, objectsSkipped: 1, objectsFailed: 0 });
    expect(consumer.store.ledger('trail', 'trail-bucket', [`${PREFIX}skip.txt`]).get(`${PREFIX}skip.txt`)).to.include({ status: 'skipped', lastError: 'pattern' });
    expect(await queueDepth(queue.url)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it('deletes a message only after delivery: the output failing mid-object keeps the message; the redelivery resumes after the last delivered batch', async () => {
    const queue = await createQueue('trail-resume', { VisibilityTimeout: '1' });
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: `${PREFIX}big.json.gz`, body: trail('big', 1200) }]);
    consumer.sink.failAfterWrites = 1;
    const controller = new AbortController();
    // The output fails after one batch: the object is held, receiving pauses; then the service stops.
    const running = consumer.drain(sqsSource(queue.url, {}, { visibility_timeout: '10s' }), { signal: controller.signal, untilEmpty: false });
    while (consumer.sink.writes < 1 || consumer.store.ledger('trail', 'trail-bucket', [`${PREFIX}big.json.gz`]).get(`${PREFIX}big.json.gz`)?.events !== 500) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await running;
    expect(consumer.store.ledger('trail', 'trail-bucket', [`${PREFIX}big.json.gz`]).get(`${PREFIX}big.json.gz`)).to.include({ status: 'in_progress', events: 500 });
    const held = await queueDepth(queue.url);
    expect(held.visible + held.inFlight).to.equal(1);

    consumer.sink.failAfterWrites = Infinity;
    const resumed = await waitForRedelivery(() => consumer.drain(sqsSource(queue.url)));
    expect(resumed.stats.objectsDone).to.equal(1);
    expect(consumer.sink.eventIds()).to.deep.equal(Array.from({ length: 1200 }, (_, index) => `big-${index}`));
    expect(await queueDepth(queue.url)).to.deep.equal({ visible: 0, inFlight: 0 });

    // The same notification again (a redelivery after a lost delete): deleted at once, nothing repeated.
    await putObjects('trail-bucket', []);
    await sendMessage(queue.url, JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', awsRegion: 'us-east-1', s3: { bucket: { name: 'trail-bucket' }, object: { key: `${PREFIX}big.json.gz`, size: 10 } } }] }));
    const again = await consumer.drain(sqsSource(queue.url));
    expect(again.stats).to.include({ deleted: 1, objectsDone: 0 });
    expect(consumer.sink.lines).to.have.length(1200);
  });

  it('quarantines an object after max_attempts and then deletes its message', async () => {
    const queue = await createQueue('trail-bad', { VisibilityTimeout: '1' });
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: `${PREFIX}bad.json.gz`, body: 'not gzip, not json' }]);
    const source = sqsSource(queue.url, { max_attempts: 1 });
    const result = await consumer.drain(source);
    expect(result.stats).to.include({ objectsFailed: 1, deleted: 2 });
    expect(consumer.store.failedObjects('trail').map((row) => row.key)).to.deep.equal([`${PREFIX}bad.json.gz`]);
    expect(await queueDepth(queue.url)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it('extends the visibility of a message while the output is down for longer than the visibility timeout: another consumer never receives it', async () => {
    const queue = await createQueue('trail-extend');
    await notifyQueue('trail-bucket', queue.arn);
    await drain(queue.url); // the s3:TestEvent
    await putObjects('trail-bucket', [{ key: `${PREFIX}slow.json.gz`, body: trail('slow', 10) }]);
    consumer.sink.failing = true;
    const controller = new AbortController();
    const source = sqsSource(queue.url, {}, { visibility_timeout: '10s' });
    const running = consumer.drain(source, { signal: controller.signal, untilEmpty: false });
    // The first consumer has the message once it has begun the object.
    while (!consumer.store.ledger('trail', 'trail-bucket', [`${PREFIX}slow.json.gz`]).has(`${PREFIX}slow.json.gz`)) await new Promise((resolve) => setImmediate(resolve));
    while (consumer.sink.failing) {
      // A second consumer polls the queue throughout: 14 s, past the 10 s timeout.
      const other = new Consumer();
      const started = Date.now();
      while (Date.now() - started < 14_000) {
        const seen = await other.drain(sqsSource(queue.url, {}, { wait_time: '2s' }));
        expect(seen.stats.received, 'the other consumer received the held message').to.equal(0);
      }
      other.close();
      consumer.sink.failing = false;
    }
    while (consumer.sink.lines.length < 10) await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const result = await running;
    expect(result.stats.visibilityExtensions).to.be.greaterThan(0);
    expect(consumer.sink.eventIds()).to.have.length(10);
  });

  it('an output outage pauses receiving: no message is taken that could not be delivered, and nothing is lost', async () => {
    const queue = await createQueue('trail-outage');
    await notifyQueue('trail-bucket', queue.arn);
    await drain(queue.url); // the s3:TestEvent
    await putObjects('trail-bucket', [{ key: `${PREFIX}first.json.gz`, body: trail('first', 3) }]);
    let attempts = 0;
    const sink = consumer.sink;
    sink.failing = true;
    const counting: Sink = { description: 'counting', write: (records) => ((attempts += 1), sink.write(records)), reopen: () => sink.reopen(), close: () => sink.close() };
    const controller = new AbortController();
    const running = consumer.drain(sqsSource(queue.url, {}, { workers: 4 }), { sink: counting, signal: controller.signal, untilEmpty: false });
    while (attempts < 1) await new Promise((resolve) => setImmediate(resolve));
    await putObjects('trail-bucket', ['a', 'b', 'c'].map((name) => ({ key: `${PREFIX}${name}.json.gz`, body: trail(name, 3) })));
    // The held object is tried again after its pause; meanwhile the three new messages wait in the queue.
    while (attempts < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await queueDepth(queue.url)).visible, 'messages received during the outage').to.equal(3);
    sink.failing = false;
    while (sink.lines.length < 12) await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await running;
    expect(sink.eventIds().sort()).to.deep.equal(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2', 'c-0', 'c-1', 'c-2', 'first-0', 'first-1', 'first-2']);
  });

  it('several consumers with their own state share one queue: every event is delivered, none twice by one consumer', async () => {
    const queue = await createQueue('trail-shared');
    await notifyQueue('trail-bucket', queue.arn);
    const objects = Array.from({ length: 120 }, (_, index) => ({ key: `${PREFIX}o-${String(index).padStart(4, '0')}.json.gz`, body: trail(`s${index}`, 5) }));
    await putObjects('trail-bucket', objects);
    const consumers = [new Consumer(), new Consumer(), new Consumer()];
    const results = await Promise.all(consumers.map((one) => one.drain(sqsSource(queue.url, {}, { workers: 4 }))));
    const delivered = consumers.flatMap((one) => one.sink.eventIds());
    expect(new Set(delivered).size).to.equal(600);
    expect(results.filter((result) => result.stats.objectsDone > 0).length, 'consumers that pulled objects').to.be.greaterThan(1);
    // A standard queue delivers at least once: now and then SQS (and moto, under concurrent
    // receives) hands one message to two consumers. Such a repeat is a whole object delivered by
    // two consumers, never an event delivered twice by one; the event ids let the SIEM drop it.
    for (const one of consumers) expect(new Set(one.sink.eventIds()).size).to.equal(one.sink.eventIds().length);
    const repeats = delivered.length - 600;
    expect(repeats % 5, 'repeats are whole objects').to.equal(0);
    expect(repeats).to.be.below(30);
    for (const one of consumers) one.close();
  });

  it('reconcile lists the prefix for objects no notification announced, and does not pull again what came by the queue', async () => {
    const queue = await createQueue('trail-reconcile');
    await putObjects('trail-bucket', [{ key: `${PREFIX}before-notifications.json.gz`, body: trail('early', 2) }]);
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: `${PREFIX}notified.json.gz`, body: trail('late', 2) }]);
    const config = collectorConfig(sqsSource(queue.url, { bucket: 'trail-bucket', prefix: 'AWSLogs/' }, { reconcile: '1H' }), consumer.stateFile);
    const collector = new Collector(config, { store: consumer.store, sink: consumer.sink, log: silentLogger, clock: { now: () => Date.now() + 3_600_000, sleep: systemClock.sleep } });
    const [result] = await collector.pollNow();
    await collector.stop();
    expect(result!.objectsDone).to.equal(2);
    expect(consumer.sink.eventIds().sort()).to.deep.equal(['early-0', 'early-1', 'late-0', 'late-1']);
  });

  it('without reconcile, CloudTrail digests are still checked: a listed file no notification announced is recovered, the rest are not listed', async () => {
    const queue = await createQueue('trail-digests');
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const day = new Date(hour - 2 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '/');
    const partition = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
    const unannounced = `${partition}${day}/111122223333_CloudTrail_us-east-1_unannounced.json.gz`;
    const announced = `${partition}${day}/111122223333_CloudTrail_us-east-1_announced.json.gz`;
    await putObjects('trail-bucket', [{ key: unannounced, body: trail('missed', 2) }]);
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: announced, body: trail('notified', 2) }]);
    const key = testKey();
    const digest = writeDigest({
      bucket: 'trail-bucket',
      start: new Date(hour - 2 * 3_600_000),
      end: new Date(hour - 3_600_000),
      key,
      logFiles: [
        { bucket: 'trail-bucket', key: unannounced, content: gunzipSync(trail('missed', 2)) },
        { bucket: 'trail-bucket', key: announced, content: gunzipSync(trail('notified', 2)) },
      ],
    });
    await putObjects('trail-bucket', [{ key: digest.key, body: digest.body, metadata: { signature: digest.signature, 'signature-algorithm': 'SHA256withRSA' } }]);
    const keyFile = path.join(tempDir(), 'keys.txt');
    writeFileSync(keyFile, key.der.toString('base64'));
    const source = sqsSource(queue.url, { bucket: 'trail-bucket', prefix: 'AWSLogs/', cloudtrail: { digests: 'verify', public_key_file: keyFile } });
    const collector = new Collector(collectorConfig(source, consumer.stateFile), { store: consumer.store, sink: consumer.sink, log: silentLogger, clock: systemClock, digestsEveryPoll: true });
    const [result] = await collector.pollNow();
    await collector.stop();
    expect(result!.objectsRecovered).to.equal(1);
    expect(result!.digestProblems).to.equal(0);
    expect(consumer.sink.eventIds().sort()).to.deep.equal(['missed-0', 'missed-1', 'notified-0', 'notified-1']);
    expect(consumer.store.digestChecks(source.id, 0)).to.have.length(1);
  });

  it("an object that came by the queue keeps its partition's newest object current (the partitions are reconcile's), so that silence and lag hold for SQS sources", async () => {
    const queue = await createQueue('trail-partitions');
    await putObjects('trail-bucket', [{ key: `${PREFIX}listed.json.gz`, body: trail('listed', 1) }]);
    await notifyQueue('trail-bucket', queue.arn);
    const config = collectorConfig(sqsSource(queue.url, { bucket: 'trail-bucket', prefix: 'AWSLogs/', expect_objects_within: '2h' }, { reconcile: '1H' }), consumer.stateFile);
    const clock = { now: () => Date.now() + 3_600_000, sleep: systemClock.sleep };
    const collector = new Collector(config, { store: consumer.store, sink: consumer.sink, log: silentLogger, clock });
    try {
      await collector.pollNow(); // the reconcile listing finds the partition and pulls what it lists
      const partition = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
      expect(consumer.store.partitions('trail').map((p) => p.prefix)).to.deep.equal([partition]);
      // Forget what the listing recorded: what follows must come from the queue's object alone.
      new Database(consumer.stateFile).exec('UPDATE partitions SET newest_done_modified_ms = NULL').close();
      await putObjects('trail-bucket', [{ key: `${PREFIX}notified.json.gz`, body: trail('notified', 1) }]);
      await collector.pollNow();
      const row = consumer.store.ledger('trail', 'trail-bucket', [`${PREFIX}notified.json.gz`]).get(`${PREFIX}notified.json.gz`)!;
      expect(row).to.include({ status: 'done', partition: '' });
      expect(consumer.store.partitions('trail')[0]!.newestDoneModifiedMs).to.equal(row.lastModifiedMs);
    } finally {
      await collector.stop();
    }
  });

  it('the CLI: validate refuses reconcile (and digests: verify) without a bucket; `test` checks the queue and hands back what it saw; `once` drains the queue; `sources` shows it', async () => {
    const queue = await createQueue('trail-cli');
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', [{ key: `${PREFIX}cli.json.gz`, body: trail('cli', 4) }]);
    const state = path.join(tempDir(), 'state.db');
    const out = path.join(tempDir(), 'events.ndjson');
    const sqsYaml = (collection: string) => `id: trail
region: us-east-1
endpoint: ${motoEndpoint()}
path_style: true
auth: { type: access_key, access_key_id: AKIATESTKEY, secret_access_key: s3cr3t-do-not-log-me }
format: cloudtrail
collection: { type: sqs, queue_url: ${queue.url}, wait_time: 0s${collection} }
`;
    const collector = `state: ${state}\noutput: { type: file, path: ${out} }\n`;
    const refused = await runCli(['--config', writeConfig(collector, { 'trail.yaml': sqsYaml(', reconcile: 1H') }), 'validate']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.contain('field bucket <missing>: is required for collection.reconcile (the bucket to list)');
    const verifying = await runCli(['--config', writeConfig(collector, { 'trail.yaml': `${sqsYaml('')}cloudtrail: { digests: verify }\n` }), 'validate']);
    expect(verifying.code).to.equal(2);
    expect(verifying.stderr).to.contain('field bucket <missing>: is required for cloudtrail.digests: verify');

    const dir = writeConfig(collector, { 'trail.yaml': sqsYaml('') });
    const tested = await runCli(['--config', dir, 'test', 'trail']);
    expect(tested.stdout, tested.stdout).to.match(/(ok|warn)\s+credentials\s+objects: access_key: key AKIA…TKEY/);
    expect(tested.stdout, tested.stdout).to.match(/warn\s+queue\s+access_key credentials work; 2 message\(s\) waiting.*no redrive policy/);
    expect(tested.stdout).to.match(/ok\s+receive\s+2 message\(s\), handed back at once/);
    expect(tested.stdout).to.match(/ok\s+read\s+s3:\/\/trail-bucket\/.*cli\.json\.gz: 4 event\(s\)/);
    expect(tested.stdout + tested.stderr).not.to.contain('s3cr3t-do-not-log-me');
    expect((await queueDepth(queue.url)).visible, 'test handed the messages back').to.equal(2);

    const once = await runCli(['--config', dir, 'once']);
    expect(once.code, once.stderr).to.equal(0);
    expect(once.stdout).to.contain('2 message(s) received, 2 deleted');
    expect(readFileSync(out, 'utf8').trim().split('\n')).to.have.length(4);
    const sources = await runCli(['--config', dir, 'sources']);
    expect(sources.stdout).to.match(/trail: queue .*trail-cli: 0 waiting, 0 in flight/);
    // The queue's requests are counted beside S3's, for the same source.
    const [status] = JSON.parse((await runCli(['--config', dir, 'sources', '--json'])).stdout);
    const today = status.requests[new Date().toISOString().slice(0, 10)];
    expect(today.GetObject, JSON.stringify(today)).to.equal(1);
    expect(today.ReceiveMessage).to.be.at.least(1);
    expect((today.DeleteMessageBatch ?? 0) + (today.DeleteMessage ?? 0)).to.be.at.least(1);
  });

  it('reads the message shapes and decodes keys per shape', () => {
    expect(decodeFormKey('a+b%2Bc%2Fd')).to.equal('a b+c/d');
    const eventBridge = parseNotification(JSON.stringify({ version: '0', source: 'aws.s3', 'detail-type': 'Object Created', region: 'eu-west-1', time: '2026-11-23T10:00:00Z', detail: { bucket: { name: 'b' }, object: { key: 'x+y%2B', size: 5, etag: 'e1' } } }));
    expect(eventBridge).to.deep.include({ kind: 'objects', shape: 'eventbridge' });
    expect((eventBridge as { objects: { key: string; region?: string }[] }).objects[0]).to.include({ key: 'x+y%2B', alternateKey: 'x y+', region: 'eu-west-1' });
    const s3Event = parseNotification(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'a+b%2Bc' } } }] }));
    expect((s3Event as { objects: { key: string }[] }).objects[0]).to.include({ key: 'a b+c', alternateKey: 'a+b%2Bc' });
    expect(parseNotification(JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Tags Added', detail: {} }))).to.include({ kind: 'ignored' });
    expect(parseNotification(JSON.stringify({ Records: [{ eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] }))).to.include({ kind: 'ignored' });
    expect(parseNotification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).to.include({ kind: 'test' });
    expect(parseNotification('{"Type":"Notification","Message":"not json"}')).to.include({ kind: 'unknown' });
  });
});


/** A message returned to the queue comes back once its visibility runs out: drain until it has. */
async function waitForRedelivery(drainOnce: () => Promise<QueueRunResult>): Promise<QueueRunResult> {
  for (let tries = 0; tries < 60; tries += 1) {
    const result = await drainOnce();
    if (result.stats.objectsDone > 0) return result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the message did not come back within 30 s');
}

function capture(lines: string[]): Logger {
  const make = (fields: Record<string, unknown>): Logger =>
    ({
      error: (message: string, meta?: object) => lines.push(`${message} ${JSON.stringify({ ...fields, ...meta })}`),
      warn: (message: string, meta?: object) => lines.push(`${message} ${JSON.stringify({ ...fields, ...meta })}`),
      info: (message: string, meta?: object) => lines.push(`${message} ${JSON.stringify({ ...fields, ...meta })}`),
      debug: () => {},
      child: (more: Record<string, unknown>) => make({ ...fields, ...more }),
      context: fields,
    }) as unknown as Logger;
  return make({});
}

void motoEndpoint;
