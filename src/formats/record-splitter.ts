/**
 * Splits a JSON document that holds one array of records (CloudTrail's `Records`, any
 * `records_path`) into its records, as the text streams by: a scanner that tracks strings,
 * escapes and depth finds where each record begins and ends and hands just that text to
 * JSON.parse. Memory is one record at a time (and a record over the limit is only measured, never
 * held), so a 1 GB object fits in a few MB, at JSON.parse's speed rather than a streaming parser's.
 *
 * The scanner works on decoded text, not bytes: the structural characters are ASCII and cannot
 * appear inside a UTF-16 surrogate pair, so each record is a slice of the chunk's string (no copy),
 * strings are skipped with `indexOf` rather than a character at a time, and the record's own text
 * can be delivered as it is, instead of being serialised again.
 *
 * Outside the records array the scanner checks only the structure (balanced brackets, strings
 * closed); inside it, each record is checked by JSON.parse.
 */
import { StringDecoder } from 'node:string_decoder';

export type SplitItem =
  | {
      kind: 'record';
      value: unknown;
      /**
       * The record's text as the document holds it, when it can stand as one line of JSON: no
       * line break between its tokens, and nested no deeper than a serialiser can take.
       */
      json?: string;
    }
  /** A record longer than the limit (in UTF-8 bytes): its text was dropped as it went by. */
  | { kind: 'tooLarge'; bytes: number };

export class SplitError extends Error {
  override readonly name = 'SplitError';
}

/** The document is whole, but has no array at the records path. */
export class MissingRecordsError extends SplitError {}

export interface SplitOptions {
  /** Property names from the top down to the array (`['Records']`); empty: the top level is the array. */
  recordsPath: string[];
  maxRecordBytes: number;
  /**
   * Documents may follow one another (one per line, or with nothing between them, as Firehose
   * writes them): the records of each are read in turn.
   */
  concatenated?: boolean;
}

/**
 * Deeper records are serialised again rather than passed on as text, so that one nested beyond
 * what JSON.stringify can take is refused as before (a counted bad record) and never reaches an
 * output.
 */
export const MAX_PASSTHROUGH_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const BYTE_ORDER_MARK = 0xfeff;
/** Keys on the path are short; a longer one cannot be a path name, and is not kept. */
const MAX_KEY_LENGTH = 1024;

/** What numbers and the literals true, false and null are made of. */
function isLiteralCharacter(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2b || code === 0x2e || 'truefalsnE'.includes(String.fromCharCode(code));
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Yields the records in order, a chunk's worth at a time; throws SplitError on broken structure. */
export async function* splitRecords(input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: SplitOptions): AsyncGenerator<SplitItem[]> {
  const scanner = new RecordScanner(options);
  const decoder = new StringDecoder('utf8');
  for await (const piece of input) {
    const out: SplitItem[] = [];
    scanner.push(typeof piece === 'string' ? piece : decoder.write(piece), out);
    if (out.length > 0) yield out;
  }
  const out: SplitItem[] = [];
  scanner.push(decoder.end(), out);
  scanner.end();
  if (out.length > 0) yield out;
}

/** The scanner's state between chunks; `push` takes the next piece of text, `end` checks the whole. */
export class RecordScanner {
  private readonly path: string[];
  private readonly maxRecordBytes: number;
  private readonly concatenated: boolean;
  /** The open brackets outside the records (and the records array itself). */
  private readonly stack: number[] = [];
  /** Per object level on the path: the key just read, and whether a key comes next. */
  private readonly keys: (string | undefined)[] = [];
  private readonly expectingKey: boolean[] = [];
  private inString = false;
  /** The previous chunk ended inside a string on an unpaired backslash. */
  private escaped = false;
  /** The key being read on the path, from its opening quote; undefined when none is. */
  private keyText: string | undefined;
  private keyTooLong = false;
  /** Stack length directly inside the records array once found (0: not yet), -1 once it has closed. */
  private recordsDepth = 0;
  private foundRecords = false;
  private sawValue = false;
  private capturing = false;
  private scalar = false;
  /** Nesting inside the record being read, and the deepest it went. */
  private depth = 0;
  private deepest = 0;
  /** The record's text from earlier chunks, and its UTF-8 length. */
  private carry = '';
  private carryBytes = 0;
  private oversize = false;
  private recordNumber = 0;

  constructor(options: SplitOptions) {
    this.path = options.recordsPath;
    this.maxRecordBytes = options.maxRecordBytes;
    this.concatenated = options.concatenated ?? false;
  }

  push(text: string, out: SplitItem[]): void {
    const length = text.length;
    let captureStart = this.capturing ? 0 : -1;
    let keyStart = this.keyText !== undefined ? 0 : -1;
    let i = 0;
    if (this.inString && this.escaped && length > 0) {
      this.escaped = false;
      i = 1;
    }
    while (i < length) {
      if (this.inString) {
        const close = this.closingQuote(text, i);
        if (close === -1) break;
        this.inString = false;
        i = close + 1;
        if (keyStart !== -1) {
          this.finishKey(text.slice(keyStart, i));
          keyStart = -1;
        } else if (this.capturing && this.scalar) {
          this.finishRecord(text, captureStart, i, out);
          captureStart = -1;
        }
        continue;
      }
      if (this.capturing && !this.scalar) {
        // Inside a record: only strings and depth matter here; JSON.parse checks the rest.
        let depth = this.depth;
        for (; i < length; i += 1) {
          const code = text.charCodeAt(i);
          if (code === QUOTE) {
            const close = this.closingQuote(text, i + 1);
            if (close === -1) {
              this.inString = true;
              i = length;
              break;
            }
            i = close;
          } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
            depth += 1;
            if (depth > this.deepest) this.deepest = depth;
          } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
            depth -= 1;
            if (depth === 0) {
              i += 1;
              this.depth = 0;
              this.finishRecord(text, captureStart, i, out);
              captureStart = -1;
              break;
            }
          }
        }
        if (this.capturing) this.depth = depth;
        continue;
      }
      const code = text.charCodeAt(i);
      i += 1;
      if (isSpace(code) || (code === BYTE_ORDER_MARK && !this.sawValue && this.stack.length === 0)) {
        if (this.capturing && this.scalar) {
          this.finishRecord(text, captureStart, i - 1, out);
          captureStart = -1;
        }
        continue;
      }
      const level = this.stack.length;
      if (level === this.recordsDepth && level > 0) {
        // Directly inside the records array: records begin and scalars end here.
        if (code === COMMA || code === CLOSE_ARRAY) {
          if (this.capturing) {
            this.finishRecord(text, captureStart, i - 1, out);
            captureStart = -1;
          }
          if (code === CLOSE_ARRAY) {
            this.stack.pop();
            this.recordsDepth = -1;
          }
          continue;
        }
        if (!this.capturing) {
          this.capturing = true;
          captureStart = i - 1;
          this.scalar = code !== OPEN_OBJECT && code !== OPEN_ARRAY;
          if (code === QUOTE) this.inString = true;
          else if (!this.scalar) {
            this.depth = 1;
            this.deepest = 1;
          }
          continue;
        }
        // Within a number or a literal (a scalar record); a second value without a comma is not.
        if (code === QUOTE || code === OPEN_OBJECT || code === OPEN_ARRAY) throw new SplitError(`record ${this.recordNumber + 1}: unexpected ${String.fromCharCode(code)} after a value`);
        continue;
      }
      if (level === 0 && code !== OPEN_OBJECT && code !== OPEN_ARRAY) {
        const shown = text.slice(i - 1, i + 19).replace(/\s+/g, ' ');
        throw new SplitError(this.sawValue ? `more than one JSON value at the top level` : `the document is not a JSON object or array (it begins ${JSON.stringify(shown)})`);
      }
      switch (code) {
        case QUOTE:
          this.inString = true;
          if (level > 0 && level <= this.path.length && this.stack[level - 1] === OPEN_OBJECT && this.expectingKey[level - 1]) {
            this.keyText = '';
            keyStart = i - 1;
          }
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          if (level === 0) {
            if (this.sawValue && !this.concatenated) throw new SplitError('more than one JSON value at the top level');
            this.sawValue = true;
            // The next document's records array is looked for anew.
            if (this.concatenated) this.recordsDepth = 0;
          }
          if (code === OPEN_ARRAY && this.recordsDepth === 0 && level === this.path.length && this.onPath()) {
            this.recordsDepth = level + 1;
            this.foundRecords = true;
          }
          this.stack.push(code);
          if (code === OPEN_OBJECT && level < this.path.length) {
            this.expectingKey[level] = true;
            this.keys[level] = undefined;
          }
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY: {
          const open = this.stack.pop();
          if (open !== (code === CLOSE_OBJECT ? OPEN_OBJECT : OPEN_ARRAY)) throw new SplitError(`unbalanced ${String.fromCharCode(code)}`);
          break;
        }
        case COMMA:
          if (level > 0 && level <= this.path.length && this.stack[level - 1] === OPEN_OBJECT) this.expectingKey[level - 1] = true;
          break;
        case COLON:
          if (level > 0 && level <= this.path.length) this.expectingKey[level - 1] = false;
          break;
        default:
          // Literals and numbers outside the records need no more than their place in the structure.
          if (!isLiteralCharacter(code)) throw new SplitError(`unexpected ${JSON.stringify(String.fromCharCode(code))} outside the records`);
          break;
      }
    }
    if (keyStart !== -1 && this.keyText !== undefined) this.addToKey(text.slice(keyStart));
    if (this.capturing && captureStart !== -1 && captureStart < length) {
      const rest = text.slice(captureStart);
      this.carryBytes += Buffer.byteLength(rest);
      if (!this.oversize) {
        if (this.carryBytes > this.maxRecordBytes) {
          this.oversize = true;
          this.carry = '';
        } else this.carry += rest;
      }
    }
  }

  /** Checks that the document was whole and held the records array. */
  end(): void {
    if (this.capturing) throw new SplitError(`the document ends early, inside record ${this.recordNumber + 1} (truncated?)`);
    if (this.inString || this.stack.length > 0) throw new SplitError(`the document ends early${this.recordNumber > 0 ? `, after record ${this.recordNumber}` : ''} (truncated?)`);
    if (!this.foundRecords) throw new MissingRecordsError('no records array');
  }

  /**
   * The index of the quote that closes the string `from` is in (`from` itself is not escaped), or
   * -1 when the string goes on past this chunk (with `escaped` set for the next one's first
   * character).
   */
  private closingQuote(text: string, from: number): number {
    for (;;) {
      const quote = text.indexOf('"', from);
      const end = quote === -1 ? text.length : quote;
      let backslashes = 0;
      for (let at = end - 1; at >= from && text.charCodeAt(at) === BACKSLASH; at -= 1) backslashes += 1;
      if (quote === -1) {
        this.escaped = (backslashes & 1) === 1;
        return -1;
      }
      if ((backslashes & 1) === 0) return quote;
      from = quote + 1;
    }
  }

  /** A key too long to be a path name is only measured, never held. */
  private addToKey(piece: string): void {
    if (this.keyTooLong) return;
    if (this.keyText!.length + piece.length > MAX_KEY_LENGTH + 2) {
      this.keyTooLong = true;
      this.keyText = '';
    } else this.keyText += piece;
  }

  private finishKey(last: string): void {
    this.addToKey(last);
    const level = this.stack.length - 1;
    this.keys[level] = this.keyTooLong ? undefined : (JSON.parse(this.keyText!) as string);
    this.keyText = undefined;
    this.keyTooLong = false;
  }

  private finishRecord(text: string, start: number, end: number, out: SplitItem[]): void {
    this.recordNumber += 1;
    this.capturing = false;
    this.scalar = false;
    const piece = text.slice(start, end);
    const carried = this.carry.length > 0 || this.oversize;
    // A piece is at most 3 bytes a character: most records are clearly under the limit uncounted.
    const bytes = carried || piece.length * 3 > this.maxRecordBytes ? this.carryBytes + Buffer.byteLength(piece) : piece.length;
    if (this.oversize || bytes > this.maxRecordBytes) {
      out.push({ kind: 'tooLarge', bytes });
    } else {
      const recordText = carried ? this.carry + piece : piece;
      let value: unknown;
      try {
        value = JSON.parse(recordText);
      } catch (error) {
        throw new SplitError(`record ${this.recordNumber}: ${(error as Error).message}`);
      }
      // JSON strings cannot hold a raw line break: one in the text is whitespace between tokens.
      const oneLine = this.deepest <= MAX_PASSTHROUGH_DEPTH && !recordText.includes('\n') && !recordText.includes('\r');
      out.push(oneLine ? { kind: 'record', value, json: recordText } : { kind: 'record', value });
    }
    this.carry = '';
    this.carryBytes = 0;
    this.oversize = false;
    this.deepest = 0;
  }

  private onPath(): boolean {
    for (let level = 0; level < this.path.length; level += 1) {
      if (this.stack[level] !== OPEN_OBJECT || this.keys[level] !== this.path[level]) return false;
    }
    return true;
  }
}
