/**
 * Splits a JSON document that holds one array of records (CloudTrail's `Records`, any
 * `records_path`) into its records, as the bytes stream by: a scanner that tracks strings,
 * escapes and depth finds where each record begins and ends and hands just those bytes to
 * JSON.parse. Memory is one record at a time (and a record over the limit is only counted, never
 * held), so a 1 GB object fits in a few MB, at JSON.parse's speed rather than a streaming
 * parser's.
 *
 * Outside the records array the scanner checks only the structure (balanced brackets, strings
 * closed); inside it, each record is checked by JSON.parse.
 */

export type SplitItem =
  | { kind: 'record'; value: unknown }
  /** A record longer than the limit: its bytes were dropped as they went by. */
  | { kind: 'tooLarge'; bytes: number };

export class SplitError extends Error {
  override readonly name = 'SplitError';
}

export interface SplitOptions {
  /** Property names from the top down to the array (`['Records']`); empty: the top level is the array. */
  recordsPath: string[];
  maxRecordBytes: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Keys on the path are short; a longer one cannot be a path name, and is not kept. */
const MAX_KEY_BYTES = 1024;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Yields the records in order, a chunk's worth at a time; throws SplitError on broken structure. */
export async function* splitRecords(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: SplitOptions): AsyncGenerator<SplitItem[]> {
  const path = options.recordsPath;
  const stack: number[] = [];
  /** Per object level on the path: the key just read, and whether a key comes next. */
  const keys: (string | undefined)[] = [];
  const expectingKey: boolean[] = [];
  let inString = false;
  let escaped = false;
  let keyParts: Buffer[] | undefined;
  let keyBytes = 0;

  /** Depth inside the records array once found (0: not yet), -1 once it has closed. */
  let recordsDepth = 0;
  let foundRecords = false;
  let capturing = false;
  let scalar = false;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let oversize = false;
  let recordNumber = 0;
  let sawValue = false;

  const finishRecord = (chunk: Buffer, start: number, end: number, out: SplitItem[]) => {
    recordNumber += 1;
    capturing = false;
    scalar = false;
    const total = partBytes + (end - start);
    if (oversize || total > options.maxRecordBytes) {
      out.push({ kind: 'tooLarge', bytes: total });
    } else {
      const last = chunk.subarray(start, end);
      const bytes = parts.length === 0 ? last : Buffer.concat([...parts, last], total);
      let value: unknown;
      try {
        value = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        throw new SplitError(`record ${recordNumber}: ${(error as Error).message}`);
      }
      out.push({ kind: 'record', value });
    }
    parts = [];
    partBytes = 0;
    oversize = false;
  };

  for await (const piece of input) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    const out: SplitItem[] = [];
    let captureStart = capturing ? 0 : -1;
    let keyStart = keyParts ? 0 : -1;
    const length = chunk.length;
    for (let i = 0; i < length; i += 1) {
      const byte = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          if (keyParts) {
            keyBytes += i + 1 - keyStart;
            if (keyBytes <= MAX_KEY_BYTES) keyParts.push(chunk.subarray(keyStart, i + 1));
            const level = stack.length - 1;
            keys[level] = keyBytes <= MAX_KEY_BYTES ? (JSON.parse(Buffer.concat(keyParts).toString('utf8')) as string) : undefined;
            keyParts = undefined;
            keyStart = -1;
          } else if (capturing && scalar && stack.length === recordsDepth) {
            finishRecord(chunk, captureStart, i + 1, out);
            captureStart = -1;
          }
        }
        continue;
      }
      if (isSpace(byte)) {
        if (capturing && scalar && stack.length === recordsDepth) {
          finishRecord(chunk, captureStart, i, out);
          captureStart = -1;
        }
        continue;
      }
      const depth = stack.length;
      if (depth === recordsDepth && recordsDepth > 0) {
        // Directly inside the records array: records begin and scalars end here.
        if (byte === COMMA || byte === CLOSE_ARRAY) {
          if (capturing) {
            finishRecord(chunk, captureStart, i, out);
            captureStart = -1;
          }
          if (byte === CLOSE_ARRAY) {
            stack.pop();
            recordsDepth = -1;
          }
          continue;
        }
        if (!capturing) {
          capturing = true;
          captureStart = i;
          scalar = byte !== OPEN_OBJECT && byte !== OPEN_ARRAY;
          if (byte === QUOTE) inString = true;
          if (!scalar) stack.push(byte);
          continue;
        }
        if (scalar) {
          if (byte === QUOTE || byte === OPEN_OBJECT || byte === OPEN_ARRAY) throw new SplitError(`record ${recordNumber + 1}: unexpected ${String.fromCharCode(byte)} after a value`);
          continue;
        }
      }
      switch (byte) {
        case QUOTE:
          inString = true;
          if (depth > 0 && depth <= path.length && stack[depth - 1] === OPEN_OBJECT && expectingKey[depth - 1] && !capturing) {
            keyParts = [];
            keyBytes = 0;
            keyStart = i;
          }
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          if (depth === 0) {
            if (sawValue) throw new SplitError('more than one JSON value at the top level');
            sawValue = true;
          }
          if (byte === OPEN_ARRAY && recordsDepth === 0 && depth === path.length && onPath(stack, keys, path)) {
            recordsDepth = depth + 1;
            foundRecords = true;
          }
          stack.push(byte);
          if (byte === OPEN_OBJECT && depth < path.length) {
            expectingKey[depth] = true;
            keys[depth] = undefined;
          }
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY: {
          const open = stack.pop();
          if (open !== (byte === CLOSE_OBJECT ? OPEN_OBJECT : OPEN_ARRAY)) throw new SplitError(`unbalanced ${String.fromCharCode(byte)}`);
          if (capturing && stack.length === recordsDepth) {
            finishRecord(chunk, captureStart, i + 1, out);
            captureStart = -1;
          }
          break;
        }
        case COMMA:
          if (depth > 0 && depth <= path.length && stack[depth - 1] === OPEN_OBJECT) expectingKey[depth - 1] = true;
          break;
        case COLON:
          if (depth > 0 && depth <= path.length) expectingKey[depth - 1] = false;
          break;
        default:
          // Literals and numbers outside the records need no more than their place in the structure.
          break;
      }
    }
    if (keyParts && keyStart !== -1) {
      keyBytes += length - keyStart;
      // A key too long to be a path name is only measured, never held.
      if (keyBytes <= MAX_KEY_BYTES) keyParts.push(chunk.subarray(keyStart));
    }
    if (capturing && captureStart !== -1) {
      const rest = length - captureStart;
      partBytes += rest;
      if (!oversize) {
        if (partBytes > options.maxRecordBytes) {
          oversize = true;
          parts = [];
        } else parts.push(chunk.subarray(captureStart));
      }
    }
    if (out.length > 0) yield out;
  }
  if (inString || stack.length > 0) throw new SplitError('the document ends early (truncated?)');
  if (!foundRecords) throw new MissingRecordsError();
}

/** The document is whole, but has no array at the records path. */
export class MissingRecordsError extends SplitError {}

function onPath(stack: number[], keys: (string | undefined)[], path: string[]): boolean {
  for (let level = 0; level < path.length; level += 1) {
    if (stack[level] !== OPEN_OBJECT || keys[level] !== path[level]) return false;
  }
  return true;
}
