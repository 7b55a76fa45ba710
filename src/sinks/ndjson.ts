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
