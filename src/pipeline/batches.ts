/**
 * Turns an object's parsed items into batches ready to deliver: envelope lines, the dedup keys,
 * the bad lines. The same code runs on the main thread or in a parse thread (parse-thread.ts);
 * what comes out is delivered and committed by pullObject either way, in the same order.
 */
import type { ParsedItem } from '../formats/types.js';
import type { OutputRecord } from '../sinks/types.js';
import type { EnvelopeWriter } from './envelope.js';

export const BATCH_EVENTS = 500;
const BATCH_BYTES = 1024 * 1024;

export interface BadLine {
  line: number;
  reason: string;
}

export interface PreparedBatch {
  records: OutputRecord[];
  /** The identity of each record for `dedup`, in the same order; empty when the source does not dedup. */
  dedupKeys: (string | undefined)[];
  /** Items skipped as bad; each holds a position like an event. */
  badLines: number;
  /** The bad lines to log one by one (the object's first few). */
  badSamples: BadLine[];
}

export interface BatchOptions {
  /** Items before this position were delivered by an earlier attempt: they are passed over. */
  resumeFrom: number;
  dedupKeyOf?: ((event: Record<string, unknown>) => string | undefined) | undefined;
  /** How many bad lines are handed over with their reason; the rest are only counted. */
  samplesWanted: number;
}

export async function* prepareBatches(items: AsyncIterable<ParsedItem>, envelope: EnvelopeWriter, options: BatchOptions): AsyncGenerator<PreparedBatch> {
  const { resumeFrom, dedupKeyOf } = options;
  let samplesLeft = options.samplesWanted;
  let position = 0;
  let batch = emptyBatch();
  let batchBytes = 0;
  for await (const parsed of items) {
    const at = position;
    position += 1;
    if (at < resumeFrom) continue;
    let item = parsed;
    let record: OutputRecord | undefined;
    if ('event' in item) {
      try {
        record = envelope.record(at, item.event, item.time, item.fields, item.json);
      } catch (error) {
        // JSON.parse takes any depth, JSON.stringify a few thousand levels: such a record is
        // skipped and counted like a bad line, and the rest of the object is delivered.
        if (!(error instanceof RangeError)) throw error;
        item = { bad: { line: at + 1, reason: `record ${at + 1} is nested too deeply to be delivered as JSON` } };
      }
    }
    if ('bad' in item) {
      batch.badLines += 1;
      if (samplesLeft > 0) {
        samplesLeft -= 1;
        batch.badSamples.push(item.bad);
      }
      continue;
    }
    if (dedupKeyOf) batch.dedupKeys.push(dedupKeyOf(item.event));
    batch.records.push(record!);
    batchBytes += record!.line.length;
    if (batch.records.length >= BATCH_EVENTS || batchBytes >= BATCH_BYTES) {
      yield batch;
      batch = emptyBatch();
      batchBytes = 0;
    }
  }
  if (batch.records.length > 0 || batch.badLines > 0) yield batch;
}

function emptyBatch(): PreparedBatch {
  return { records: [], dedupKeys: [], badLines: 0, badSamples: [] };
}
