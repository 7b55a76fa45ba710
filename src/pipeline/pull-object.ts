/**
 * Pulls one object: fetch → decode → parse → throttle → sink → commit, batch by batch. Progress
 * is committed after each delivered batch, so a crash repeats at most one batch of this object,
 * and a retry resumes after what was delivered.
 */
import type { Readable } from 'node:stream';
import type { ObjectGetter, ObjectRef } from '../aws/types.js';
import type { Format } from '../formats/types.js';
import type { FormatConfig } from '../formats/index.js';
import type { Sink } from '../sinks/types.js';
import type { TokenBucket } from '../throttle/token-bucket.js';
import type { Checkpoint } from './checkpoint.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { createHash } from 'node:crypto';
import { parseObject } from '../formats/parse-object.js';
import type { DecodeTally } from '../formats/decode.js';
import { EnvelopeWriter, type EnvelopeContext } from './envelope.js';
import { prepareBatches, type PreparedBatch } from './batches.js';
import type { Deduplicator } from './dedup.js';
import type { ParseThreads } from './parse-threads.js';
import { classifyS3Error } from '../aws/classify.js';
import { S3PullError, isAbortError } from '../util/errors.js';
import { emit } from '../telemetry/events.js';

export { BATCH_EVENTS } from './batches.js';
/** How many bad lines of one object are logged one by one before they are only counted. */
const BAD_LINES_LOGGED = 10;

export interface PullContext {
  sourceId: string;
  /** The event source name for an object's key (identifier_pattern), the source id by default. */
  sourceNameFor?: (key: string) => string;
  /** The format's name and options, from which a parse thread makes the same format. */
  formatConfig: FormatConfig;
  format: Format;
  getter: ObjectGetter;
  sink: Sink;
  checkpoint: Checkpoint;
  throttle: TokenBucket;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  onEvents?: (count: number) => void;
  /** Source option `max_record_bytes`: longer lines and records are skipped and counted. */
  maxRecordBytes?: number | undefined;
  /** Drops repeated events (source option `dedup`); absent when the source does not dedup. */
  dedup?: Deduplicator | undefined;
  /** Parse threads (`parse_threads`); without them the object is parsed on this thread. */
  parseThreads?: ParseThreads | undefined;
  /** Record the SHA-256 of each object's decompressed bytes in the ledger (CloudTrail digests compare it). */
  hashObjects?: boolean | undefined;
}

export interface PullOutcome {
  events: number;
  badLines: number;
  duplicates: number;
  /** The object's bytes after gunzip, as this attempt read them (all of it, also when resuming). */
  decodedBytes: number;
  /** SHA-256 (hex) of those bytes, where the source hashes its objects. */
  sha256?: string | undefined;
}

export async function pullObject(context: PullContext, object: ObjectRef): Promise<PullOutcome> {
  const { checkpoint, sourceId, clock } = context;
  const row = checkpoint.begin(object);
  // Items already delivered by an earlier attempt (events and bad lines both hold a position).
  const resumeFrom = row.events + row.badLines + row.duplicates;
  const log = context.log.child({ key: object.key });
  let events = row.events;
  let badLines = row.badLines;
  let duplicates = row.duplicates;
  const { dedup } = context;
  // Keys claimed by the batch on its way, released once it is committed or has failed.
  let batchKeys: string[] = [];

  const deliver = async (batch: PreparedBatch) => {
    let deliverable = batch.records;
    let batchDuplicates = 0;
    if (dedup) {
      // One lookup per batch; repeats keep their positions (ids) but are not delivered.
      const { repeats, claimed } = dedup.claim(batch.dedupKeys, clock.now());
      batchKeys = claimed;
      deliverable = batch.records.filter((_, index) => !repeats[index]);
      batchDuplicates = batch.records.length - deliverable.length;
    }
    for (const bad of batch.badSamples) emit(log, 'bad_line', { line: bad.line, reason: bad.reason });
    const throttleStartMs = clock.now();
    await context.throttle.take(deliverable.length, context.signal);
    const writeStartMs = clock.now();
    if (writeStartMs > throttleStartMs) emit(log, 'throttled', { waited_ms: writeStartMs - throttleStartMs });
    await context.sink.write(deliverable, context.signal);
    emit(log, 'output_delivered', { output: context.sink.description, events: deliverable.length, bytes: ndjsonBytes(batch, deliverable.length), seconds: (clock.now() - writeStartMs) / 1000 });
    events += deliverable.length;
    badLines += batch.badLines;
    duplicates += batchDuplicates;
    checkpoint.progress(object, { events, badLines, duplicates, dedupKeys: batchKeys });
    dedup?.release(batchKeys);
    batchKeys = [];
    context.onEvents?.(deliverable.length);
    // Stop between batches on shutdown: what was delivered is committed, the rest resumes.
    context.signal.throwIfAborted();
  };

  let body: Readable | undefined;
  try {
    // Only the listed version: progress recorded for it must never be applied to other bytes.
    const fetched = await context.getter.get(object, context.signal);
    body = fetched.body;
    // The listing's ETag names the version we planned; a rewritten object starts over.
    const envelope: EnvelopeContext = {
      sourceId,
      source: context.sourceNameFor?.(object.key) ?? sourceId,
      bucket: object.bucket,
      key: object.key,
      etag: fetched.etag || object.etag,
      format: context.formatConfig.format,
      fallbackTime: object.lastModified.toISOString(),
    };
    const options = { resumeFrom, samplesWanted: Math.max(0, BAD_LINES_LOGGED - row.badLines) };
    const tally: DecodeTally = { decodedBytes: 0, hash: context.hashObjects ? createHash('sha256') : undefined };
    const batches = context.parseThreads
      ? context.parseThreads.batches({ format: context.formatConfig, envelope, ...options, dedup: dedup !== undefined, maxRecordBytes: context.maxRecordBytes, hash: context.hashObjects }, body, context.signal, tally)
      : prepareBatches(parseObject(context.format, body, { key: object.key, maxRecordBytes: context.maxRecordBytes }, tally), new EnvelopeWriter(envelope), {
          ...options,
          dedupKeyOf: dedup ? context.format.dedupKey : undefined,
        });
    for await (const batch of batches) await deliver(batch);
    // A resumed attempt decodes the object from its first byte too: the hash is of all of it.
    const sha256 = tally.sha256 ?? tally.hash?.digest('hex');
    checkpoint.complete(object, { events, badLines, duplicates, sha256 });
    if (badLines > BAD_LINES_LOGGED) emit(log, 'bad_lines_skipped', { count: badLines });
    if (duplicates > 0) emit(log, 'repeats_dropped', { count: duplicates });
    return { events, badLines, duplicates, decodedBytes: tally.decodedBytes, sha256 };
  } catch (error) {
    // Keys of a batch that was not committed were not delivered: a retry may deliver them.
    dedup?.release(batchKeys);
    throw classifyReadError(error, object);
  } finally {
    body?.destroy();
  }
}

/** The bytes of the delivered lines; where dedup dropped some, in proportion (reading each line back would cost more than the figure is worth). */
function ndjsonBytes(batch: PreparedBatch, delivered: number): number {
  const all = batch.records.length;
  return delivered === all ? batch.ndjson.length : all === 0 ? 0 : Math.round((batch.ndjson.length * delivered) / all);
}

/** Decoding names its own errors (formats/decode.ts); what is left came from reading S3. */
function classifyReadError(error: unknown, object: ObjectRef): unknown {
  if (error instanceof S3PullError || isAbortError(error)) return error;
  return classifyS3Error(error, 'get', { bucket: object.bucket, key: object.key });
}
