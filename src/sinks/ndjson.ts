import type { OutputRecord } from './types.js';

/**
 * Batches whose NDJSON bytes were made with them (in a parse thread, where the cost is off the
 * main thread): the file and stdout outputs write those bytes as they are. Keyed by the array,
 * so a batch filtered afterwards (dedup) is encoded again, from what it still holds.
 */
const encoded = new WeakMap<readonly OutputRecord[], Buffer>();

/** `bytes` must hold exactly the records' lines, each followed by a newline. */
export function withNdjson<T extends readonly OutputRecord[]>(records: T, bytes: Buffer): T {
  encoded.set(records, bytes);
  return records;
}

export function ndjsonOf(records: readonly OutputRecord[]): Buffer {
  return encoded.get(records) ?? encodeLines(records);
}

/**
 * The lines as UTF-8, each followed by a newline, written line by line into one buffer sized for
 * mostly ASCII text: twice as fast as joining them into one string first (which V8 must then
 * flatten, a copy of the whole batch, before encoding it).
 */
export function encodeLines(records: readonly OutputRecord[]): Buffer {
  let characters = 0;
  for (const record of records) characters += record.line.length + 1;
  const bytes = Buffer.allocUnsafe(characters + (characters >> 4) + 8);
  // A line that came within a character's width of the end may have been cut short.
  const limit = bytes.length - 4;
  let offset = 0;
  for (const record of records) {
    offset += bytes.write(record.line, offset);
    if (offset > limit) return Buffer.from(joinLines(records));
    bytes[offset++] = 0x0a;
  }
  return bytes.subarray(0, offset);
}

export function joinLines(records: readonly OutputRecord[]): string {
  let text = '';
  for (const record of records) text += record.line + '\n';
  return text;
}

/**
 * A batch's lines written as they are made into one buffer, so that the batch holds one buffer
 * rather than hundreds of strings (which, held across the output's write, would be promoted to
 * V8's old generation and grow the heap with garbage). `lines` reads them back for the outputs
 * that want them one by one.
 */
export class NdjsonWriter {
  private bytes: Buffer;
  private offset = 0;
  private readonly ends: number[] = [];
  readonly lines: EncodedLines;

  constructor(
    capacity: number,
    private readonly pool?: BufferPool,
  ) {
    this.bytes = pool ? pool.take(capacity) : Buffer.allocUnsafe(capacity);
    this.lines = new EncodedLines();
  }

  get count(): number {
    return this.ends.length;
  }

  /** Returns the line's index. */
  add(line: string): number {
    // A UTF-16 unit is at most 3 bytes of UTF-8: room for that, or the buffer grows.
    const needed = this.offset + line.length * 3 + 1;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.offset);
      this.pool?.give(this.bytes);
      this.bytes = grown;
    }
    this.offset += this.bytes.write(line, this.offset);
    this.ends.push(this.offset);
    this.bytes[this.offset++] = 0x0a;
    return this.ends.length - 1;
  }

  /** The whole buffer the bytes are in (after `finish`). */
  get buffer(): Buffer {
    return this.bytes;
  }

  /** The NDJSON bytes; the lines can be read from then on. */
  finish(): Buffer {
    const bytes = this.bytes.subarray(0, this.offset);
    this.lines.attach(bytes, this.ends);
    return bytes;
  }
}

/** Lines of an NDJSON buffer, decoded one by one when asked for. */
export class EncodedLines {
  private bytes: Buffer | undefined;
  private ends: number[] | undefined;

  /** `ends`: where each line's newline is; found by looking when not given. */
  attach(bytes: Buffer, ends?: number[]): this {
    this.bytes = bytes;
    this.ends = ends;
    return this;
  }

  /** The buffer goes back to be reused: reading a line after this is a bug, and says so. */
  release(): void {
    this.bytes = undefined;
    this.ends = undefined;
  }

  line(index: number): string {
    const bytes = this.bytes;
    if (!bytes) throw new Error('a line was read after its batch was delivered (outputs must not keep records past write)');
    if (!this.ends) {
      // Envelope lines are JSON: a newline byte in them is always the end of one.
      const ends: number[] = [];
      for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) ends.push(at);
      this.ends = ends;
    }
    const start = index === 0 ? 0 : this.ends[index - 1]! + 1;
    return bytes.toString('utf8', start, this.ends[index]);
  }
}

/** An output record whose line lives in its batch's NDJSON buffer. */
export class EncodedRecord implements OutputRecord {
  private text: string | undefined;

  constructor(
    readonly id: string,
    readonly time: string,
    readonly source: string,
    readonly sourceId: string,
    readonly format: string,
    readonly eventOffset: number,
    private readonly lines: EncodedLines,
    private readonly index: number,
  ) {}

  get line(): string {
    this.text ??= this.lines.line(this.index);
    return this.text;
  }
}

/**
 * Batch buffers of one object, reused from one batch to the next: without it, every batch is a
 * fresh megabyte that lives through the output's write and waits for V8's old-generation
 * collection to be freed, so the process holds tens of MB of dead buffers.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly keep = 3,
    private readonly largest = 4 * 1024 * 1024,
  ) {}

  take(size: number): Buffer {
    const index = this.free.findIndex((buffer) => buffer.length >= size);
    return index === -1 ? Buffer.allocUnsafe(size) : this.free.splice(index, 1)[0]!;
  }

  /** `buffer` must be whole (not a view into a larger one) and no longer read by anyone. */
  give(buffer: Buffer): void {
    if (this.free.length < this.keep && buffer.length <= this.largest) this.free.push(buffer);
  }
}
