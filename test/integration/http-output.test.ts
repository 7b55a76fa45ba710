import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { freshTrailBucket, type Harness } from '../helpers/harness.js';
import { putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.js';
import { startProxy } from '../helpers/proxy.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource, type PollResult } from '../../src/poll/poll-source.js';
import { HttpSink } from '../../src/sinks/http.js';
import { httpOutputSchema, type ProxyServerConfig } from '../../src/config/schema.js';
import { createLogger, registerSecret, type Logger } from '../../src/log/logger.js';
import type { Clock } from '../../src/util/clock.js';
import type { LoadedSource } from '../../src/config/load.js';

/** Sleeps pass at once and are recorded, so that backoff and Retry-After can be checked without waiting. */
class RecordingClock implements Clock {
  readonly slept: number[] = [];
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.offset += ms;
  }
}

function capturedLog(): { log: Logger; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { log: createLogger({ level: 'debug', format: 'json', stream }), text: () => text };
}

const bodyLines = (receiver: HttpReceiver) => receiver.requests.flatMap((request) => request.body.split('\n').filter(Boolean).map((line) => JSON.parse(line)));

describe('http output into a local receiver (NDJSON, Splunk HEC, Elasticsearch _bulk)', () => {
  let h: Harness;
  let receiver: HttpReceiver;
  let ca: TestCa;
  before(() => {
    ca = makeTestCa();
  });
  beforeEach(async () => {
    h = await freshTrailBucket();
    receiver = await startHttpReceiver();
  });
  afterEach(async () => {
    h.close();
    await receiver.close();
  });

  function pollInto(source: LoadedSource, output: Record<string, unknown>, options: { clock?: Clock; log?: Logger; proxy?: ProxyServerConfig | 'none'; ca?: string[] } = {}): Promise<PollResult> {
    const clock = options.clock ?? new RecordingClock();
    const log = options.log ?? capturedLog().log;
    const sink = new HttpSink(httpOutputSchema.parse({ type: 'http', url: receiver.url, ...output }), { clock, log, proxy: options.proxy ?? 'none', ca: options.ca });
    return h.pollInto(source, sink, { clock, log });
  }

  it('ndjson: gzipped batches of max_events with bearer auth and extra headers; every envelope once', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 700) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 3) },
    ]);
    const result = await pollInto(testSource({ concurrency: 1 }), { auth: { type: 'bearer', token: 'tok-123' }, headers: { 'x-tenant': 'blue' }, max_events: 300 });
    expect(result.events).to.equal(703);
    // The poll's batches of 500 (700 → 500 + 200, then 3), each split into requests of at most max_events.
    expect(receiver.requests.map((request) => request.body.trim().split('\n').length)).to.deep.equal([300, 200, 200, 3]);
    expect(receiver.requests.every((request) => request.method === 'POST' && request.url === '/' && request.gzipped)).to.equal(true);
    expect(receiver.requests[0]!.headers).to.include({ authorization: 'Bearer tok-123', 'x-tenant': 'blue', 'content-type': 'application/x-ndjson' });
    const envelopes = bodyLines(receiver);
    expect(envelopes).to.have.length(703);
    expect(new Set(envelopes.map((envelope) => envelope.id)).size).to.equal(703);
    expect(envelopes[0]).to.include({ source: 'trail', format: 'cloudtrail', category: 'data_access' });
  });

  it('splunk_hec: HEC events at /services/collector/event with the Splunk token, epoch time, host, sourcetype and index', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    receiver.answer = () => ({ status: 200, body: { text: 'Success', code: 0 } });
    await pollInto(testSource({ identifier_pattern: 'AWSLogs/(?<account>\\d{12})/' }), {
      shape: 'splunk_hec', auth: { type: 'splunk', token: 'hec-token' }, message: 'event', splunk: { index: 'aws', sourcetype: 'aws:{format}' },
    });
    expect(receiver.requests[0]!.url).to.equal('/services/collector/event');
    expect(receiver.requests[0]!.headers.authorization).to.equal('Splunk hec-token');
    const [first] = bodyLines(receiver);
    expect(first).to.deep.include({ time: 1795428000, host: '111122223333', source: '111122223333', sourcetype: 'aws:cloudtrail', index: 'aws' });
    expect(first.event).to.include({ eventID: 'a-0', eventName: 'GetObject' });
  });

  it('splunk_hec with indexer acknowledgement: a batch counts only once HEC says it was indexed, and is sent again when it never does', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 3) }]);
    let ackPolls = 0;
    let nextAckId = 0;
    const indexed = new Set<number>();
    receiver.answer = (request) => {
      if (request.url === '/services/collector/ack') {
        ackPolls += 1;
        const [id] = JSON.parse(request.body).acks as number[];
        // The first batch is never indexed (an indexer died); the second is, at the second poll.
        if (id === 1 && ackPolls >= 2) indexed.add(id);
        return { status: 200, body: { acks: { [String(id)]: indexed.has(id!) } } };
      }
      return { status: 200, body: { text: 'Success', code: 0, ackId: nextAckId++ } };
    };
    const clock = new RecordingClock();
    const result = await pollInto(testSource(), { shape: 'splunk_hec', auth: { type: 'splunk', token: 't' }, splunk: { ack_timeout: '20s' } }, { clock });
    expect(result.status).to.equal('ok');
    const posts = receiver.requests.filter((request) => request.url === '/services/collector/event');
    expect(posts).to.have.length(2);
    expect(posts[1]!.body).to.equal(posts[0]!.body);
    const channels = new Set(receiver.requests.map((request) => request.headers['x-splunk-request-channel']));
    expect(channels.size).to.equal(1);
    expect([...channels][0]).to.match(/^[0-9a-f-]{36}$/);
    expect(indexed.has(1)).to.equal(true);
  });

  it('elasticsearch: _bulk create with the event id as _id; 409 is "already there", 429 items alone go again', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 3) }]);
    receiver.answer = (_request, index) =>
      index === 0
        ? { status: 200, body: { errors: true, items: [{ create: { status: 201 } }, { create: { status: 409, error: { type: 'version_conflict_engine_exception' } } }, { create: { status: 429, error: { type: 'es_rejected_execution_exception' } } }] } }
        : { status: 200, body: { errors: false, items: [{ create: { status: 201 } }] } };
    const result = await pollInto(testSource(), { shape: 'elasticsearch', auth: { type: 'api_key', token: 'a2V5OnNlY3JldA==' }, elasticsearch: { index: 'logs-aws.{format}-{date}', pipeline: 'aws' } });
    expect(result.status).to.equal('ok');
    expect(receiver.requests).to.have.length(2);
    expect(receiver.requests[0]!.url).to.equal('/_bulk?pipeline=aws');
    expect(receiver.requests[0]!.headers.authorization).to.equal('ApiKey a2V5OnNlY3JldA==');
    const [action, document] = receiver.requests[0]!.body.split('\n').map((line) => (line ? JSON.parse(line) : undefined));
    expect(action.create._index).to.equal('logs-aws.cloudtrail-2026.11.23');
    expect(action.create._id).to.equal(document.id);
    expect(document['@timestamp']).to.equal('2026-11-23T10:00:00Z');
    // Only the throttled third event was sent again.
    const again = receiver.requests[1]!.body.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(again).to.have.length(2);
    expect(again[1].event.eventID).to.equal('a-2');
  });

  it('elasticsearch: an event refused for good fails its object (quarantined in time), not the source', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 1) },
    ]);
    receiver.answer = (request) =>
      request.body.includes('"a-0"')
        ? { status: 200, body: { errors: true, items: [{ create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [eventTime]' } } }] } }
        : { status: 200, body: { errors: false, items: [{ create: { status: 201 } }] } };
    const result = await pollInto(testSource({ max_attempts: 1, concurrency: 1 }), { shape: 'elasticsearch' });
    expect(result.status).to.equal('partial');
    expect(result.objectsDone).to.equal(1);
    expect(h.store.failedObjects('trail')[0]!.lastError).to.contain('Elasticsearch refused an event (HTTP 400, mapper_parsing_exception: failed to parse field [eventTime])');
  });

  it('retries 503 and connection failures with backoff, honouring Retry-After; nothing is lost', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 5) }]);
    receiver.answer = (_request, index) => (index < 2 ? { status: 503, headers: { 'retry-after': '7' }, body: { text: 'Server is busy', code: 9 } } : { status: 200, body: {} });
    const clock = new RecordingClock();
    const { log, text } = capturedLog();
    const result = await pollInto(testSource(), {}, { clock, log });
    expect(result.status).to.equal('ok');
    expect(clock.slept.slice(0, 2)).to.deep.equal([7000, 7000]);
    expect(bodyLines(receiver).slice(-5).map((envelope) => envelope.event.eventID)).to.deep.equal(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(text()).to.contain('output receiver unavailable').and.contain('HTTP 503').and.contain('output receiver is back');

    // A receiver that is not there at all: retried until retry_timeout, then the poll fails with the marker kept.
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 1) }]);
    const url = receiver.url;
    await receiver.close();
    const sink = new HttpSink(httpOutputSchema.parse({ type: 'http', url, retry_timeout: '30s' }), { clock: new RecordingClock(), log, proxy: 'none' });
    const bucket = createS3Bucket(s3BucketOptionsFor(testSource()));
    const down = await pollSource(testSource(), { store: h.store, sink, bucket, clock: new RecordingClock(), log }, new AbortController().signal);
    bucket.destroy();
    await sink.close();
    expect(down.status).to.equal('failed');
    expect(down.errors[0]).to.match(/ECONNREFUSED.*the marker stays/);
  });

  it('401 is not retried: the poll stops naming the credentials, and the token is never logged', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    receiver.answer = () => ({ status: 401, body: { text: 'Invalid token', code: 4 } });
    registerSecret('hec-secret-token');
    const { log, text } = capturedLog();
    const result = await pollInto(testSource(), { shape: 'splunk_hec', auth: { type: 'splunk', token: 'hec-secret-token' } }, { log });
    expect(result.status).to.equal('failed');
    expect(receiver.requests).to.have.length(1);
    expect(result.errors[0]).to.contain('the receiver refused the credentials (HTTP 401').and.contain('Invalid token');
    expect(text()).to.not.contain('hec-secret-token');
  });

  it('413: a batch too large for the receiver is split in halves until it fits', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 9) }]);
    receiver.answer = (request) => (request.body.split('\n').filter(Boolean).length > 2 ? { status: 413 } : { status: 200, body: {} });
    const result = await pollInto(testSource(), {});
    expect(result.status).to.equal('ok');
    const delivered = receiver.requests.filter((request) => request.body.split('\n').filter(Boolean).length <= 2);
    expect(delivered.flatMap((request) => request.body.split('\n').filter(Boolean).map((line) => JSON.parse(line).event.eventID)).sort()).to.deep.equal(Array.from({ length: 9 }, (_, index) => `a-${index}`).sort());
  });

  it('goes through the configured proxy with its password, and to an HTTPS receiver under the CA from certs_dir', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    const proxy = await startProxy({ username: 'collector', password: 'proxy-pass' });
    try {
      await pollInto(testSource(), {}, { proxy: { url: proxy.url, username: 'collector', password: 'proxy-pass' } });
      expect(proxy.seen.some((line) => line.includes(new URL(receiver.url).host))).to.equal(true);
      expect(bodyLines(receiver)).to.have.length(2);
    } finally {
      await proxy.close();
    }

    const secure = await startHttpReceiver({ key: ca.serverKey, cert: ca.serverPem });
    try {
      await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 1) }]);
      const untrusted = new HttpSink(httpOutputSchema.parse({ type: 'http', url: secure.url }), { clock: new RecordingClock(), log: capturedLog().log, proxy: 'none' });
      const bucket = createS3Bucket(s3BucketOptionsFor(testSource()));
      const refused = await pollSource(testSource(), { store: h.store, sink: untrusted, bucket, clock: new RecordingClock(), log: capturedLog().log }, new AbortController().signal);
      await untrusted.close();
      expect(refused.status).to.equal('failed');
      expect(refused.errors[0]).to.contain("the receiver's TLS certificate is not trusted").and.contain('certs_dir');
      expect(secure.requests).to.have.length(0);

      const trusted = new HttpSink(httpOutputSchema.parse({ type: 'http', url: secure.url }), { clock: new RecordingClock(), log: capturedLog().log, proxy: 'none', ca: [ca.caPem] });
      const accepted = await pollSource(testSource(), { store: h.store, sink: trusted, bucket, clock: new RecordingClock(), log: capturedLog().log }, new AbortController().signal);
      await trusted.close();
      bucket.destroy();
      expect(accepted.status).to.equal('ok');
      expect(bodyLines(secure).map((envelope) => envelope.event.eventID)).to.deep.equal(['b-0']);
    } finally {
      await secure.close();
    }
  });
});
