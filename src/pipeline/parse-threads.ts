/**
 * Parse threads (collector option `parse_threads`): decoding, parsing and envelope building of
 * objects run in a pool of worker threads (piscina), so that a pull uses every core. The main
 * thread keeps S3, the throttle, the output and the state file: it reads an object and hands its
 * bytes to a thread as the thread asks for them, and delivers and commits the batches the thread
 * hands back in the order it made them, exactly as for an object parsed on the main thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { DecodeTally } from '../formats/decode.js';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Piscina } from 'piscina';
import type { OutputRecord } from '../sinks/types.js';
import { EncodedLines, EncodedRecord, withNdjson } from '../sinks/ndjson.js';
import type { PreparedBatch } from './batches.js';
import { ObjectDataError, ParseThreadError, S3PullError } from '../util/errors.js';
import type { BatchMessage, ErrorDescription, FromThread, ParseJob, ToThread } from './parse-messages.js';

/** `auto`: a thread per core where there is more than one core, none on one core. */
export function parseThreadCount(setting: number | 'auto', cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return cores > 1 ? Math.min(cores, 8) : 0;
}

// The thread's own file: compiled JavaScript, or the TypeScript source under tsx (tests, dev).
const THREAD_FILE = new URL(import.meta.url.endsWith('.ts') ? './parse-thread.ts' : './parse-thread.js', import.meta.url).href;
/**
 * Objects one thread works on at once: its tasks wait on the main thread most of the time, and
 * a task queued behind a busy thread would hold its S3 response unread.
 */
const TASKS_PER_THREAD = 32;

export class ParseThreads {
  private pool: Piscina | undefined;

  constructor(readonly threads: number) {}

  /** The batches of one object, parsed in a thread from `body` (which is read here, on demand). */
  async *batches(job: ParseJob, body: Readable, signal: AbortSignal, tally?: DecodeTally): AsyncGenerator<PreparedBatch> {
    // A stop that came first would never be heard by the listener below.
    signal.throwIfAborted();
    const { port1: port, port2 } = new MessageChannel();
    const inbox = new Inbox(port);
    const task = this.ensurePool().run({ port: port2, job }, { transferList: [port2] });
    // A thread that crashed (out of memory, a bug) fails its objects; the pool makes a new one.
    task.catch((error: unknown) => inbox.fail(new ParseThreadError(`${job.envelope.key}: its parse thread failed (${(error as Error).message}); tried again at the next poll`, { context: { key: job.envelope.key } })));
    const onAbort = () => inbox.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const feeder = new Feeder(body, port, (error) => inbox.fail(error));
    let finished = false;
    try {
      for (;;) {
        const message = await inbox.next();
        if (message.type === 'more') feeder.more();
        else if (message.type === 'batch') {
          const batch = batchOf(message, job);
          yield batch;
          // Delivered: its buffer goes back to the thread for a later batch.
          batch.release();
          const buffer = message.ndjson.buffer as ArrayBuffer;
          port.postMessage({ type: 'ack', buffer } satisfies ToThread, [buffer]);
        } else if (message.type === 'error') throw errorOf(message.error);
        else {
          finished = true;
          if (tally) {
            tally.decodedBytes += message.decodedBytes;
            tally.sha256 = message.sha256;
          }
          return;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!finished) port.postMessage({ type: 'abort' } satisfies ToThread);
      port.close();
    }
  }

  /**
   * Starts the threads and loads the parsing code in each, so that the first objects do not wait
   * for it (the service does this as it starts).
   */
  async warm(): Promise<void> {
    const pool = this.ensurePool();
    await Promise.all(Array.from({ length: this.threads }, () => pool.run({ warm: true })));
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  private ensurePool(): Piscina {
    // Made at the first object, so that commands that pull nothing start no threads.
    this.pool ??= new Piscina({
      filename: THREAD_FILE,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      idleTimeout: 60_000,
      // Tasks talk on their own ports and wait on them; atomics would stop an idle thread's loop.
      atomics: 'disabled',
      // A thread's live data is a few MB (one record and one batch per object): V8's default
      // young generation (48 MB) only holds garbage longer. 24 MB costs no speed (bench:pull).
      resourceLimits: { maxYoungGenerationSizeMb: 24 },
    });
    return this.pool;
  }
}

/** Messages from the thread, one at a time, or the failure that ends the object. */
class Inbox {
  private readonly queue: FromThread[] = [];
  private failure: unknown;
  private failed = false;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(port: MessagePort) {
    port.on('message', (message: FromThread) => {
      this.queue.push(message);
      this.wake?.();
    });
    // Messages posted before the thread closed its end arrive before this.
    port.once('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
    this.wake?.();
  }

  async next(): Promise<FromThread> {
    for (;;) {
      if (this.failed) throw this.failure;
      const message = this.queue.shift();
      if (message) return message;
      if (this.closed) throw new ParseThreadError('the parse thread ended without finishing the object; tried again at the next poll');
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/** Reads the object's body one piece per request of the thread, never ahead of it. */
class Feeder {
  private readonly iterator: AsyncIterator<Buffer>;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    body: Readable,
    private readonly port: MessagePort,
    private readonly onError: (error: unknown) => void,
  ) {
    this.iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  more(): void {
    this.reading = this.reading.then(async () => {
      try {
        const next = await this.iterator.next();
        if (next.done) {
          this.port.postMessage({ type: 'end' } satisfies ToThread);
          return;
        }
        // A copy of just these bytes, moved rather than cloned: the chunk may be a view of a larger pool.
        const data = new Uint8Array(next.value);
        this.port.postMessage({ type: 'chunk', data } satisfies ToThread, [data.buffer]);
      } catch (error) {
        // A broken download is S3's: named by pullObject as such, the thread is told to stop.
        this.onError(error);
      }
    });
  }
}

function batchOf(message: BatchMessage, job: ParseJob): PreparedBatch {
  const { source, sourceId, format } = job.envelope;
  const ndjson = Buffer.from(message.ndjson.buffer, message.ndjson.byteOffset, message.ndjson.byteLength);
  const lines = new EncodedLines().attach(ndjson);
  const records: OutputRecord[] = new Array(message.ids.length);
  for (let index = 0; index < records.length; index += 1) {
    records[index] = new EncodedRecord(message.ids[index]!, message.times[index]!, source, sourceId, format, message.eventOffsets[index]!, lines, index);
  }
  return {
    records: withNdjson(records, ndjson),
    ndjson,
    buffer: ndjson,
    release: () => lines.release(),
    dedupKeys: message.dedupKeys,
    badLines: message.badLines,
    badSamples: message.badSamples,
  };
}

function errorOf(description: ErrorDescription): Error {
  const options = { ...(description.retryable !== undefined ? { retryable: description.retryable } : {}), ...(description.context ? { context: description.context } : {}) };
  if (description.code === 'OBJECT_DATA') return new ObjectDataError(description.message, options);
  if (description.code) return new S3PullError(description.code, description.message, options);
  const error = new Error(description.message);
  error.name = description.name;
  return error;
}
