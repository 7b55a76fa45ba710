/**
 * Parse threads (real worker threads, started by piscina) against the main thread's own path: the
 * same batches in the same order, errors that cross the thread boundary as what they were, and
 * objects given up half-way that leave the thread free for the next.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ParseThreads, parseThreadCount } from '../../src/pipeline/parse-threads.js';
import { prepareBatches, type PreparedBatch } from '../../src/pipeline/batches.js';
import type { ParseJob } from '../../src/pipeline/parse-messages.js';
import { EnvelopeWriter } from '../../src/pipeline/envelope.js';
import { parseObject } from '../../src/formats/parse-object.js';
import { formatFor } from '../../src/formats/index.js';
import { ndjsonOf } from '../../src/sinks/ndjson.js';
import { ObjectDataError, ParseThreadError, isAbortError } from '../../src/util/errors.js';
import { dispositionOf } from '../../src/pipeline/disposition.js';

const KEY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/x.json.gz';

function trail(records: number): Buffer {
  const items: unknown[] = Array.from({ length: records }, (_, index) => ({ eventTime: '2026-11-23T10:00:00Z', eventID: `e-${index}`, eventSource: 's3.amazonaws.com', eventName: index % 2 ? 'GetObject' : 'PutObject', recipientAccountId: '111122223333', note: 'é "q" \\' }));
  items.splice(3, 0, 42); // a record that is not an object: a bad line with its position
  return gzipSync(JSON.stringify({ Records: items }));
}

function job(overrides: Partial<ParseJob> = {}): ParseJob {
  return {
    format: { format: 'cloudtrail' },
    envelope: { sourceId: 'trail', source: 'trail', bucket: 'b', key: KEY, etag: 'e', format: 'cloudtrail', fallbackTime: '2026-11-23T00:00:00.000Z' },
    resumeFrom: 0,
    samplesWanted: 10,
    dedup: false,
    ...overrides,
  };
}

/** Chunks of 1 KiB, so that an object crosses many messages. */
const bodyOf = (bytes: Buffer) => Readable.from(Array.from({ length: Math.ceil(bytes.length / 1024) }, (_, index) => bytes.subarray(index * 1024, (index + 1) * 1024)));

/** What a batch held while it was being delivered (its lines are not readable after). */
function plain(batch: PreparedBatch) {
  const records = batch.records.map((record) => ({ id: record.id, time: record.time, source: record.source, sourceId: record.sourceId, format: record.format, line: record.line, eventOffset: record.eventOffset }));
  return { records, ndjson: ndjsonOf(batch.records).toString('utf8'), dedupKeys: batch.dedupKeys, badLines: batch.badLines, badSamples: batch.badSamples };
}
type Plain = ReturnType<typeof plain>;

async function inProcess(bytes: Buffer, parseJob: ParseJob): Promise<Plain[]> {
  const format = formatFor(parseJob.format);
  const batches: Plain[] = [];
  const items = parseObject(format, bodyOf(bytes), { key: KEY });
  for await (const batch of prepareBatches(items, new EnvelopeWriter(parseJob.envelope), { ...parseJob, dedupKeyOf: parseJob.dedup ? format.dedupKey : undefined })) batches.push(plain(batch));
  return batches;
}

async function inThread(threads: ParseThreads, bytes: Buffer | Readable, parseJob: ParseJob, signal = new AbortController().signal): Promise<Plain[]> {
  const batches: Plain[] = [];
  for await (const batch of threads.batches(parseJob, Buffer.isBuffer(bytes) ? bodyOf(bytes) : bytes, signal)) batches.push(plain(batch));
  return batches;
}

describe('parse threads', () => {
  let threads: ParseThreads;
  beforeEach(() => (threads = new ParseThreads(1)));
  afterEach(() => threads.close());

  it('hand over the batches the main thread makes, in the same order, with their NDJSON ready to write', async () => {
    const bytes = trail(1200);
    const expected = await inProcess(bytes, job());
    const got = await inThread(threads, bytes, job());
    expect(got.map((batch) => batch.records.length)).to.deep.equal([500, 500, 200]);
    expect(got).to.deep.equal(expected);
    expect(got[0]!.badSamples).to.deep.equal([{ line: 4, reason: 'record 4 is not a JSON object' }]);
    for (const batch of got) expect(batch.ndjson).to.equal(batch.records.map((record) => `${record.line}\n`).join(''));
  });

  it("carry the format's options to the thread: headerless flow records named by vpcflow.fields", async () => {
    const fields = ['version', 'vpc-id', 'srcaddr', 'dstaddr', 'start'];
    const bytes = gzipSync('3 vpc-1 10.0.0.1 10.0.0.2 1795428000\n3 vpc-1 10.0.0.3 10.0.0.4 1795428060\n');
    const flows = job({ format: { format: 'vpcflow', vpcflow: { fields } }, envelope: { ...job().envelope, format: 'vpcflow' } });
    const got = await inThread(threads, bytes, flows);
    expect(got).to.deep.equal(await inProcess(bytes, flows));
    expect(got[0]!.badLines).to.equal(0);
    expect(JSON.parse(got[0]!.records[0]!.line).event).to.deep.equal({ version: 3, vpc_id: 'vpc-1', srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', start: 1795428000 });
  });

  it('read a zip archive entry by entry in the thread, as the main thread does, each event naming its entry', async () => {
    const bytes = readFileSync(new URL('../fixtures/compression/flows.zip', import.meta.url));
    const flows = job({ format: { format: 'vpcflow' }, envelope: { ...job().envelope, format: 'vpcflow' } });
    const got = await inThread(threads, bytes, flows);
    expect(got).to.deep.equal(await inProcess(bytes, flows));
    const entries = got.flatMap((batch) => batch.records.map((record) => (JSON.parse(record.line) as { zip_entry: string }).zip_entry));
    expect(new Set(entries)).to.deep.equal(new Set(['accept-reject-traffic.log', 'more/tcp-flag-sequence.log.gz']));
  });

  it('resume after the delivered position and hand over the dedup keys', async () => {
    const bytes = trail(1200);
    const got = await inThread(threads, bytes, job({ resumeFrom: 701, dedup: true, samplesWanted: 0 }));
    expect(got).to.deep.equal(await inProcess(bytes, job({ resumeFrom: 701, dedup: true, samplesWanted: 0 })));
    expect(got[0]!.records[0]!.id.endsWith((701).toString(16).padStart(12, '0'))).to.equal(true);
    expect(got[0]!.dedupKeys[0]).to.equal('111122223333/e-700');
  });

  it('name an object that is not valid gzip as its own fault, as the main thread does', async () => {
    const broken = trail(50).subarray(0, 300);
    let failure: unknown;
    await inThread(threads, broken, job()).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(ObjectDataError);
    expect((failure as Error).message).to.match(new RegExp(`^${KEY}: not a valid gzip stream`));
  });

  it('end an object with the download’s own error when S3 breaks off, and take the next object', async () => {
    const bytes = trail(2000);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const body = Readable.from(
      (async function* () {
        yield bytes.subarray(0, 4096);
        throw reset;
      })(),
    );
    let failure: unknown;
    await inThread(threads, body, job()).catch((error: unknown) => (failure = error));
    expect(failure).to.equal(reset);
    expect((await inThread(threads, trail(10), job())).flatMap((batch) => batch.records)).to.have.length(10);
  });

  it('stop an object at once when it is given up, and take the next object', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    let failure: unknown;
    try {
      for await (const batch of threads.batches(job(), bodyOf(trail(5000)), controller.signal)) {
        seen.push(batch.records.length);
        controller.abort();
      }
    } catch (error) {
      failure = error;
    }
    expect(seen).to.deep.equal([500]);
    expect(isAbortError(failure)).to.equal(true);
    expect((await inThread(threads, trail(10), job())).flatMap((batch) => batch.records)).to.have.length(10);
  });

  it('parse_threads auto: a thread per core where there is more than one, none on one core', () => {
    expect([parseThreadCount('auto', 1), parseThreadCount('auto', 2), parseThreadCount('auto', 4), parseThreadCount(0, 4), parseThreadCount(3, 1)]).to.deep.equal([0, 2, 4, 0, 3]);
  });

  it("reuse a batch's buffer once the next batch is asked for: a line of a delivered batch cannot be read by mistake", async () => {
    const kept: PreparedBatch[] = [];
    const firstLines: string[] = [];
    for await (const batch of threads.batches(job(), bodyOf(trail(1200)), new AbortController().signal)) {
      kept.push(batch);
      firstLines.push(batch.records[0]!.line);
    }
    expect(firstLines.map((line) => JSON.parse(line).event.eventID)).to.deep.equal(['e-0', 'e-500', 'e-1000']);
    expect(() => kept[0]!.records[1]!.line).to.throw(/read after its batch was delivered/);
  });

  it('fail an object whose thread dies under it as not its fault (retried later, no attempt counted); a new thread takes the next', async () => {
    let failure: unknown;
    try {
      for await (const _batch of threads.batches(job(), bodyOf(trail(5000)), new AbortController().signal)) {
        // The thread is killed as an out-of-memory error would end it.
        await (threads as unknown as { pool: { threads: { terminate(): Promise<number> }[] } }).pool.threads[0]!.terminate();
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(ParseThreadError);
    expect((failure as Error).message).to.contain(`${KEY}: its parse thread failed`);
    expect(dispositionOf(failure)).to.equal('retry_later');
    expect((await inThread(threads, trail(10), job())).flatMap((batch) => batch.records)).to.have.length(10);
  });

  it('start no object once the stop has come', async () => {
    const controller = new AbortController();
    controller.abort();
    const seen: number[] = [];
    let failure: unknown;
    try {
      for await (const batch of threads.batches(job(), bodyOf(trail(10)), controller.signal)) seen.push(batch.records.length);
    } catch (error) {
      failure = error;
    }
    expect(seen).to.deep.equal([]);
    expect(isAbortError(failure)).to.equal(true);
  });
});
