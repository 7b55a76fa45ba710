/**
 * Turns an object's parsed items into batches ready to deliver: envelope lines, the dedup keys,
 * the bad lines. The same code runs on the main thread or in a parse thread (parse-thread.ts);
 * what comes out is delivered and committed by pullObject either way, in the same order.
 */
import type { ParsedItem } from '../formats/types.js';
import type { OutputRecord } from '../sinks/types.js';
import type { EnvelopeWriter } from './envelope.js';
import { BufferPool, EncodedRecord, NdjsonWriter, withNdjson } from '../sinks/ndjson.js';

export const BATCH_EVENTS = 500;
const BATCH_BYTES = 1024 * 1024;

export interface BadLine {
  line: number;
  reason: string;
}

export interface PreparedBatch {
  /** Records whose lines live in `ndjson` (read back only by outputs that want them one by one). */
  records: OutputRecord[];
  /**
   * The records' lines, each followed by a newline. Valid until the next batch is asked for: its
   * buffer is then reused (and the records' lines can no longer be read).
   */
  ndjson: Buffer;
  /** The whole buffer `ndjson` lies in, for handing it back to be reused. */
  buffer: Buffer;
  /** Marks the lines as no longer readable (their buffer is about to be reused). */
  release(): void;
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
  /**
   * Where batch buffers come from; the caller then hands each one back itself (a parse thread,
   * once the main thread returns it). Without one, a batch's buffer is reused for a later batch.
   */
  pool?: BufferPool | undefined;
}

export async function* prepareBatches(items: AsyncIterable<ParsedItem>, envelope: EnvelopeWriter, options: BatchOptions): AsyncGenerator<PreparedBatch> {
  const { resumeFrom, dedupKeyOf } = options;
  let samplesLeft = options.samplesWanted;
  let position = 0;
  const pool = options.pool ?? new BufferPool();
  let batch = new BatchBuilder(pool);
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
    batch.add(record!);
    if (batch.full) {
      const ready = batch.finish();
      yield ready;
      // Asked for the next one: this one was delivered, its buffer is free again.
      ready.release();
      if (!options.pool) pool.give(ready.buffer);
      batch = new BatchBuilder(pool);
    }
  }
  if (batch.records.length > 0 || batch.badLines > 0) yield batch.finish();
}

class BatchBuilder {
  readonly records: OutputRecord[] = [];
  readonly dedupKeys: (string | undefined)[] = [];
  badLines = 0;
  readonly badSamples: BadLine[] = [];
  private readonly writer: NdjsonWriter;
  private characters = 0;

  constructor(pool: BufferPool) {
    this.writer = new NdjsonWriter(BATCH_BYTES + BATCH_BYTES / 4, pool);
  }

  get full(): boolean {
    return this.records.length >= BATCH_EVENTS || this.characters >= BATCH_BYTES;
  }

  /** The line goes into the batch's buffer at once: the record keeps only its envelope fields. */
  add(record: OutputRecord): void {
    this.characters += record.line.length;
    const index = this.writer.add(record.line);
    this.records.push(new EncodedRecord(record.id, record.time, record.source, record.sourceId, record.format, record.eventOffset, this.writer.lines, index));
  }

  finish(): PreparedBatch {
    const ndjson = this.writer.finish();
    const lines = this.writer.lines;
    return {
      records: withNdjson(this.records, ndjson),
      ndjson,
      buffer: this.writer.buffer,
      release: () => lines.release(),
      dedupKeys: this.dedupKeys,
      badLines: this.badLines,
      badSamples: this.badSamples,
    };
  }
}
