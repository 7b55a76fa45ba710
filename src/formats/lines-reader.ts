import type { Readable } from 'node:stream';
import type { ParsedItem } from './types.js';

/** Longer lines are skipped as bad, without ever being held whole in memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

export type LineItem = { line: string; number: number } | { tooLong: number; number: number };

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), numbered from 1. A line longer than
 * `maxBytes` is reported by its length and number and its bytes are dropped as they stream by,
 * so a 100 MB line costs no more memory than a short one. Bytes that are not UTF-8 become U+FFFD.
 */
export async function* readLines(input: Readable, maxBytes = MAX_LINE_BYTES): AsyncIterable<LineItem> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let overflow = 0;
  let number = 0;
  const finish = (): LineItem => {
    number += 1;
    if (overflow > 0) {
      const item = { tooLong: overflow + partBytes, number };
      overflow = 0;
      parts = [];
      partBytes = 0;
      return item;
    }
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    parts = [];
    partBytes = 0;
    return { line: bytes.toString('utf8'), number };
  };
  const add = (piece: Buffer) => {
    if (overflow > 0 || partBytes + piece.length > maxBytes) {
      overflow += partBytes + piece.length;
      parts = [];
      partBytes = 0;
      return;
    }
    parts.push(piece);
    partBytes += piece.length;
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let newline = buffer.indexOf(0x0a, start); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
      add(buffer.subarray(start, newline));
      yield finish();
      start = newline + 1;
    }
    if (start < buffer.length) add(buffer.subarray(start));
  }
  if (partBytes > 0 || overflow > 0) yield finish();
}

/**
 * The loop of every line-based format: each line goes to `parseLine` (which returns an item, the
 * items of a line that holds several, or nothing to pass over the line); a line over the limit
 * becomes a counted bad line here, once.
 */
export async function* parseLines(
  input: Readable,
  maxBytes: number | undefined,
  parseLine: (line: string, number: number) => ParsedItem | ParsedItem[] | undefined,
): AsyncIterable<ParsedItem> {
  const limit = maxBytes ?? MAX_LINE_BYTES;
  for await (const item of readLines(input, limit)) {
    if ('tooLong' in item) {
      yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than max_record_bytes (${limit})` } };
      continue;
    }
    const parsed = parseLine(item.line, item.number);
    if (Array.isArray(parsed)) yield* parsed;
    else if (parsed) yield parsed;
  }
}
