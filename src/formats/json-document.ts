import { Readable } from 'node:stream';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import chain from 'stream-chain';
import type { Format, ParsedItem } from './types.js';
import { ObjectDataError } from '../util/errors.js';

/**
 * Whole-object JSON.parse is several times faster than a streaming parser, so documents are read
 * whole up to this size (decoded) and streamed only above it: a 1 GB object stays in bounded
 * memory and a 3 MB one does not pay for streaming.
 */
export const WHOLE_PARSE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface JsonDocumentOptions {
  name: string;
  /** Where the records array is: property names from the top (`['Records']`); empty for a top-level array. */
  recordsPath: string[];
  /** What the document is, for the error when the array is missing ("a CloudTrail file"). */
  kind: string;
  /** Turns one record into an item; called only for JSON objects. */
  toItem: (record: Record<string, unknown>) => ParsedItem;
  /** The identity of a record for `dedup`, for formats whose records repeat across files. */
  dedupKey?: Format['dedupKey'];
  wholeParseLimitBytes?: number;
}

/**
 * A format for documents that hold one array of records (CloudTrail's Records, AWS Config's
 * configurationItems, any `records_path`): one event per record, in bounded memory at any size.
 */
export function jsonDocumentFormat(options: JsonDocumentOptions): Format {
  const limit = options.wholeParseLimitBytes ?? WHOLE_PARSE_LIMIT_BYTES;
  return {
    name: options.name,
    ...(options.dedupKey ? { dedupKey: options.dedupKey } : {}),
    async *parse(input, context) {
      const head: Buffer[] = [];
      let headBytes = 0;
      const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        const next = await iterator.next();
        if (next.done) {
          yield* parseWhole(Buffer.concat(head, headBytes), context.key, options);
          return;
        }
        const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes > limit) break;
      }
      yield* parseStreaming(Readable.from(concatStreams(head, iterator)), context.key, options);
    },
  };
}

function describePath(path: string[]): string {
  if (path.length === 0) return 'array at the top level';
  return path.length === 1 ? `"${path[0]}" array at the top level` : `"${path.join('.')}" array`;
}

function missing(key: string, options: JsonDocumentOptions): ObjectDataError {
  return new ObjectDataError(`${key}: not ${options.kind} (no ${describePath(options.recordsPath)})`, { context: { key } });
}

function* parseWhole(bytes: Buffer, key: string, options: JsonDocumentOptions): Iterable<ParsedItem> {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ObjectDataError(`${key}: not valid JSON (${(error as Error).message})`, { context: { key } });
  }
  let records = document;
  for (const name of options.recordsPath) {
    records = records !== null && typeof records === 'object' && !Array.isArray(records) ? (records as Record<string, unknown>)[name] : undefined;
  }
  if (!Array.isArray(records)) throw missing(key, options);
  for (let index = 0; index < records.length; index += 1) {
    yield toItem(records[index], index, options);
  }
}

async function* parseStreaming(input: Readable, key: string, options: JsonDocumentOptions): AsyncIterable<ParsedItem> {
  let sawRecords = false;
  const noteRecords = (token: unknown) => {
    sawRecords = true;
    return token;
  };
  const steps =
    options.recordsPath.length === 0
      ? [input, parser(), noteRecords, streamArray()]
      : [input, parser(), pick({ filter: options.recordsPath.join('.') }), noteRecords, streamArray()];
  const pipeline = chain(steps as Parameters<typeof chain>[0]);
  try {
    for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
      yield toItem(item.value, item.key, options);
    }
  } catch (error) {
    const message = (error as Error).message;
    // streamArray refuses a top-level value that is not an array: that is "no array", not bad JSON.
    if (/array/i.test(message) && options.recordsPath.length === 0) throw missing(key, options);
    throw new ObjectDataError(`${key}: not valid JSON (${message})`, { context: { key } });
  }
  if (!sawRecords) throw missing(key, options);
}

function toItem(record: unknown, index: number, options: JsonDocumentOptions): ParsedItem {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { bad: { line: index + 1, reason: `record ${index + 1} is not a JSON object` } };
  }
  return options.toItem(record as Record<string, unknown>);
}

async function* concatStreams(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* head;
  head.length = 0;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}
