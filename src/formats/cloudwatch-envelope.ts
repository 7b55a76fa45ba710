/**
 * `envelope: cloudwatch_logs`: what CloudWatch Logs sends through a subscription to Firehose
 * arrives in S3 as JSON documents back to back, without separators:
 * `{"messageType":"DATA_MESSAGE","owner":…,"logGroup":…,"logStream":…,"subscriptionFilters":[…],
 * "logEvents":[{"id","timestamp","message"},…]}`, with `CONTROL_MESSAGE`s (Firehose's probes) to
 * skip. Each document's messages are handed to the source's own format (vpcflow,
 * route53resolver, lines, jsonlines, cloudtrail…) as the lines of a small text, and its events
 * carry `log_group` and `log_stream` beside them in the envelope. Lines that are JSON objects
 * wrapping one `message` (`{"message": "…"}`, as some exports write) are unwrapped the same way.
 */
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Format, FormatContext, ParsedItem } from './types.js';
import { MAX_LINE_BYTES } from './lines-reader.js';

/** What the scanner cut: one top-level JSON value's text, or the size of one too long to hold. */
type Piece = { text: string } | { tooLong: number };

export function cloudWatchEnvelope(inner: Format): Format {
  return {
    name: inner.name,
    ...(inner.dedupKey ? { dedupKey: inner.dedupKey } : {}),
    parse: (input, context) => unwrap(input, context, inner),
  };
}

async function* unwrap(input: Readable, context: FormatContext, inner: Format): AsyncIterable<ParsedItem> {
  const maxBytes = context.maxRecordBytes ?? MAX_LINE_BYTES;
  let documentNumber = 0;
  for await (const piece of topLevelValues(input, maxBytes)) {
    documentNumber += 1;
    if ('tooLong' in piece) {
      yield { bad: { line: documentNumber, reason: `CloudWatch Logs document ${documentNumber} of ${piece.tooLong} bytes is longer than max_record_bytes (${maxBytes})` } };
      continue;
    }
    let document: unknown;
    try {
      document = JSON.parse(piece.text);
    } catch (error) {
      yield { bad: { line: documentNumber, reason: `CloudWatch Logs document ${documentNumber} is not valid JSON (${(error as Error).message})` } };
      continue;
    }
    const unwrapped = messagesOf(document);
    if ('skip' in unwrapped) continue;
    if ('bad' in unwrapped) {
      yield { bad: { line: documentNumber, reason: `CloudWatch Logs document ${documentNumber}: ${unwrapped.bad}` } };
      continue;
    }
    const beside: Record<string, string> = {};
    if (unwrapped.logGroup !== undefined) beside['log_group'] = unwrapped.logGroup;
    if (unwrapped.logStream !== undefined) beside['log_stream'] = unwrapped.logStream;
    const text = Readable.from([Buffer.from(`${unwrapped.messages.join('\n')}\n`)]);
    for await (const item of inner.parse(text, context)) {
      if ('bad' in item) yield { bad: { line: documentNumber, reason: `CloudWatch Logs document ${documentNumber}, message ${item.bad.line}: ${item.bad.reason}` } };
      else yield { ...item, fields: { ...item.fields, ...beside } };
    }
  }
}

type Unwrapped = { messages: string[]; logGroup?: string; logStream?: string } | { skip: true } | { bad: string };

function messagesOf(document: unknown): Unwrapped {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return { bad: 'not a JSON object' };
  const value = document as Record<string, unknown>;
  const text = (field: unknown) => (typeof field === 'string' ? field : undefined);
  if (value.messageType === 'CONTROL_MESSAGE') return { skip: true };
  if (value.messageType === 'DATA_MESSAGE' || Array.isArray(value.logEvents)) {
    if (!Array.isArray(value.logEvents)) return { bad: 'a DATA_MESSAGE without logEvents' };
    const messages = value.logEvents.map((event) => (event && typeof event === 'object' ? (event as Record<string, unknown>).message : undefined));
    const wrong = messages.findIndex((message) => typeof message !== 'string');
    if (wrong !== -1) return { bad: `log event ${wrong + 1} has no message` };
    return { messages: messages as string[], logGroup: text(value.logGroup), logStream: text(value.logStream) };
  }
  if (typeof value.message === 'string') return { messages: [value.message], logGroup: text(value.logGroup), logStream: text(value.logStream) };
  return { bad: 'neither a CloudWatch Logs DATA_MESSAGE nor an object with a message' };
}

/**
 * The top-level JSON values of a text, one after another with or without whitespace between
 * them, cut by tracking strings, escapes and depth (the values themselves are JSON.parse's to
 * check). One longer than `maxBytes` is measured, never held.
 */
export async function* topLevelValues(input: AsyncIterable<Buffer | string>, maxBytes: number): AsyncIterable<Piece> {
  const decoder = new StringDecoder('utf8');
  let depth = 0;
  let inString = false;
  let escaped = false;
  let current = '';
  let currentBytes = 0;
  let tooLong = false;
  let started = false;
  const take = (text: string, from: number, to: number) => {
    if (to <= from) return;
    const piece = text.slice(from, to);
    currentBytes += Buffer.byteLength(piece);
    if (currentBytes > maxBytes) {
      tooLong = true;
      current = '';
    } else if (!tooLong) current += piece;
  };
  const finish = (): Piece => {
    const piece: Piece = tooLong ? { tooLong: currentBytes } : { text: current };
    current = '';
    currentBytes = 0;
    tooLong = false;
    started = false;
    return piece;
  };
  const scan = function* (text: string): Generator<Piece> {
    let from = started ? 0 : -1;
    for (let i = 0; i < text.length; i += 1) {
      const code = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (code === 0x5c) escaped = true;
        else if (code === 0x22) inString = false;
        continue;
      }
      if (!started) {
        if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0xfeff) continue;
        started = true;
        from = i;
      }
      if (code === 0x22) inString = true;
      else if (code === 0x7b || code === 0x5b) depth += 1;
      else if (code === 0x7d || code === 0x5d) {
        depth -= 1;
        if (depth === 0) {
          take(text, from, i + 1);
          yield finish();
          from = -1;
        }
      }
    }
    if (started && from !== -1) take(text, from, text.length);
  };
  for await (const chunk of input) yield* scan(typeof chunk === 'string' ? chunk : decoder.write(chunk));
  yield* scan(decoder.end());
  if (started) yield tooLong ? { tooLong: currentBytes } : { text: current };
}
