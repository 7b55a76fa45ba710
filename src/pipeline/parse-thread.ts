/**
 * A parse thread's task (run by piscina): one object, from the bytes the main thread hands over
 * to envelope batches handed back. Nothing here touches S3, the output or the state file.
 */
import type { MessagePort } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { parseObject as readEvents } from '../formats/parse-object.js';
import { formatFor } from '../formats/index.js';
import { EnvelopeWriter } from './envelope.js';
import { prepareBatches, type PreparedBatch } from './batches.js';
import { S3PullError } from '../util/errors.js';
import { BufferPool } from '../sinks/ndjson.js';
import { BATCH_WINDOW, type BatchMessage, type ErrorDescription, type FromThread, type ParseJob, type ToThread } from './parse-messages.js';

class Aborted extends Error {}

/** Compressed bytes a thread asks for ahead of what it has parsed (a few S3 chunks). */
const INPUT_AHEAD_BYTES = 256 * 1024;

/** A task without a port only loads this module (and what it imports): a thread warmed up. */
export default async function parseObject(task: { port: MessagePort; job: ParseJob } | { warm: true }): Promise<void> {
  if ('warm' in task) return;
  const { port, job } = task;
  const send = (message: FromThread) => port.postMessage(message);
  let credits = BATCH_WINDOW;
  // Batch buffers go to the main thread and come back with its acknowledgement, to be reused.
  const pool = new BufferPool(BATCH_WINDOW + 1);
  let aborted = false;
  let wakeWriter: (() => void) | undefined;
  // Bytes come when asked for: the thread reads the object no faster than it parses it, with a
  // little compressed data in hand so that it need not wait for the main thread at every chunk.
  const bytes = new Readable({
    highWaterMark: INPUT_AHEAD_BYTES,
    read: () => send({ type: 'more' }),
  });
  const abort = () => {
    aborted = true;
    bytes.destroy(new Aborted());
    wakeWriter?.();
  };
  // The main thread closing the port (it gave the object up, or ended) is an abort too.
  port.once('close', abort);
  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'chunk':
        bytes.push(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
        break;
      case 'end':
        bytes.push(null);
        break;
      case 'ack':
        if (message.buffer) pool.give(Buffer.from(message.buffer));
        credits += 1;
        wakeWriter?.();
        break;
      case 'abort':
        abort();
        break;
    }
  });
  const windowOpen = () =>
    new Promise<void>((resolve) => {
      wakeWriter = resolve;
    });
  try {
    const format = formatFor(job.format);
    const tally = { decodedBytes: 0, hash: job.hash ? createHash('sha256') : undefined };
    const items = readEvents(format, bytes, { key: job.envelope.key, maxRecordBytes: job.maxRecordBytes }, tally);
    const batches = prepareBatches(items, new EnvelopeWriter(job.envelope), {
      resumeFrom: job.resumeFrom,
      samplesWanted: job.samplesWanted,
      dedupKeyOf: job.dedup ? format.dedupKey : undefined,
      pool,
    });
    for await (const batch of batches) {
      while (credits === 0 && !aborted) await windowOpen();
      if (aborted) return;
      credits -= 1;
      const message = batchMessage(batch);
      port.postMessage(message satisfies FromThread, [message.ndjson.buffer as ArrayBuffer]);
      batch.release();
    }
    if (!aborted) send({ type: 'done', decodedBytes: tally.decodedBytes, sha256: tally.hash?.digest('hex') });
  } catch (error) {
    if (!aborted) send({ type: 'error', error: describe(error) });
  } finally {
    port.close();
  }
}

function batchMessage(batch: PreparedBatch): BatchMessage {
  const count = batch.records.length;
  const ids: string[] = new Array(count);
  const times: string[] = new Array(count);
  const eventOffsets: number[] = new Array(count);
  for (let index = 0; index < count; index += 1) {
    const record = batch.records[index]!;
    ids[index] = record.id;
    times[index] = record.time;
    eventOffsets[index] = record.eventOffset;
  }
  // Moved, not copied, when the batch's buffer is whole (the writer's own); a view into Node's
  // shared pool of small buffers must not be moved away, and is copied.
  const { ndjson: bytes, buffer } = batch;
  const whole = buffer.byteOffset === 0 && buffer.length === buffer.buffer.byteLength && buffer.buffer.byteLength > Buffer.poolSize;
  const ndjson = whole ? new Uint8Array(buffer.buffer as ArrayBuffer, bytes.byteOffset, bytes.length) : new Uint8Array(bytes);
  return { type: 'batch', ids, times, ndjson, eventOffsets, dedupKeys: batch.dedupKeys, badLines: batch.badLines, badSamples: batch.badSamples };
}

/** An error crosses the thread boundary as its code and message; the main thread makes it again. */
function describe(error: unknown): ErrorDescription {
  if (error instanceof S3PullError) return { name: error.name, message: error.message, code: error.code, retryable: error.retryable, context: error.context };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}
