/**
 * Pulls one object: fetch → decode → parse → throttle → sink → commit, batch by batch. Progress
 * is committed after each delivered batch, so a crash repeats at most one batch of this object,
 * and a retry resumes after what was delivered.
 */
import type { Readable } from 'node:stream';
import type { ObjectGetter, ObjectRef } from '../aws/types.js';
import type { Format } from '../formats/types.js';
import type { OutputRecord, Sink } from '../sinks/types.js';
import type { TokenBucket } from '../throttle/token-bucket.js';
import type { Checkpoint } from './checkpoint.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { decode } from '../formats/decode.js';
import { EnvelopeWriter } from './envelope.js';
import type { Deduplicator } from './dedup.js';
import { classifyS3Error } from '../aws/classify.js';
import { S3PullError, isAbortError } from '../util/errors.js';

export const BATCH_EVENTS = 500;
const BATCH_BYTES = 1024 * 1024;
/** How many bad lines of one object are logged one by one before they are only counted. */
const BAD_LINES_LOGGED = 10;

export interface PullContext {
  sourceId: string;
  /** The event source name for an object's key (identifier_pattern), the source id by default. */
  sourceNameFor?: (key: string) => string;
  formatName: string;
  format: Format;
  getter: ObjectGetter;
  sink: Sink;
  checkpoint: Checkpoint;
  throttle: TokenBucket;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  onEvents?: (count: number) => void;
  /** Drops repeated events (source option `dedup`); absent when the source does not dedup. */
  dedup?: Deduplicator | undefined;
}

export interface PullOutcome {
  events: number;
  badLines: number;
  duplicates: number;
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
  const dedupKeyOf = dedup ? context.format.dedupKey : undefined;
  // Keys claimed by the batch on its way, released once it is committed or has failed.
  let batchKeys: string[] = [];

  let body: Readable | undefined;
  try {
    // Only the listed version: progress recorded for it must never be applied to other bytes.
    const fetched = await context.getter.get(object, context.signal);
    body = fetched.body;
    // The listing's ETag names the version we planned; a rewritten object starts over.
    const etag = fetched.etag || object.etag;
    const decoded = await decode(body, object.key);
    const envelope = new EnvelopeWriter({
      sourceId,
      source: context.sourceNameFor?.(object.key) ?? sourceId,
      bucket: object.bucket,
      key: object.key,
      etag,
      format: context.formatName,
      fallbackTime: object.lastModified.toISOString(),
    });

    let position = 0;
    let batch: OutputRecord[] = [];
    let batchBytes = 0;
    let batchBad = 0;
    let candidateKeys: (string | undefined)[] = [];
    const flush = async () => {
      if (batch.length === 0 && batchBad === 0) return;
      let deliver = batch;
      let batchDuplicates = 0;
      if (dedup) {
        // One lookup per batch; repeats keep their positions (ids) but are not delivered.
        const { repeats, claimed } = dedup.claim(candidateKeys, clock.now());
        batchKeys = claimed;
        deliver = batch.filter((_, index) => !repeats[index]);
        batchDuplicates = batch.length - deliver.length;
      }
      await context.throttle.take(deliver.length, context.signal);
      await context.sink.write(deliver, context.signal);
      events += deliver.length;
      badLines += batchBad;
      duplicates += batchDuplicates;
      checkpoint.progress(object, { events, badLines, duplicates, dedupKeys: batchKeys });
      dedup?.release(batchKeys);
      context.onEvents?.(deliver.length);
      batch = [];
      candidateKeys = [];
      batchKeys = [];
      batchBytes = 0;
      batchBad = 0;
      // Stop between batches on shutdown: what was delivered is committed, the rest resumes.
      context.signal.throwIfAborted();
    };

    for await (const parsed of context.format.parse(decoded, { key: object.key })) {
      const at = position;
      position += 1;
      if (at < resumeFrom) continue;
      let item = parsed;
      let record: OutputRecord | undefined;
      if ('event' in item) {
        try {
          record = envelope.record(at, item.event, item.time, item.fields);
        } catch (error) {
          // JSON.parse takes any depth, JSON.stringify a few thousand levels: such a record is
          // skipped and counted like a bad line, and the rest of the object is delivered.
          if (!(error instanceof RangeError)) throw error;
          item = { bad: { line: at + 1, reason: `record ${at + 1} is nested too deeply to be delivered as JSON` } };
        }
      }
      if ('bad' in item) {
        batchBad += 1;
        if (badLines + batchBad <= BAD_LINES_LOGGED) {
          log.warn('bad line skipped', { line: item.bad.line, reason: item.bad.reason });
        }
        continue;
      }
      if (dedupKeyOf) candidateKeys.push(dedupKeyOf(item.event));
      batch.push(record!);
      batchBytes += record!.line.length;
      if (batch.length >= BATCH_EVENTS || batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
    checkpoint.complete(object, { events, badLines, duplicates });
    if (badLines > BAD_LINES_LOGGED) log.warn('bad lines skipped', { count: badLines });
    if (duplicates > 0) log.debug('repeated events dropped', { count: duplicates });
    return { events, badLines, duplicates };
  } catch (error) {
    // Keys of a batch that was not committed were not delivered: a retry may deliver them.
    dedup?.release(batchKeys);
    throw classifyReadError(error, object);
  } finally {
    body?.destroy();
  }
}

/** Decoding names its own errors (formats/decode.ts); what is left came from reading S3. */
function classifyReadError(error: unknown, object: ObjectRef): unknown {
  if (error instanceof S3PullError || isAbortError(error)) return error;
  return classifyS3Error(error, 'get', { bucket: object.bucket, key: object.key });
}
