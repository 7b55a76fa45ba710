import type { Format, ParsedItem } from './types.js';
import { ObjectDataError } from '../util/errors.js';
import { MissingRecordsError, SplitError, splitRecords } from './record-splitter.js';
import { MAX_LINE_BYTES } from './lines-reader.js';

/**
 * Documents are read whole up to this size (decoded), which costs one JSON.parse, and split
 * record by record above it, so that memory stays bounded at any size. A whole document can
 * hold no record larger than this, so the record limit below holds for both paths.
 */
export const WHOLE_PARSE_LIMIT_BYTES = 8 * 1024 * 1024;
/** A longer record is skipped and counted, like a longer line, without being held in memory. */
export const MAX_RECORD_BYTES = MAX_LINE_BYTES;

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
      yield* parseSplit(concatStreams(head, iterator), context.key, options);
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

async function* parseSplit(input: AsyncIterable<Buffer>, key: string, options: JsonDocumentOptions): AsyncIterable<ParsedItem> {
  let index = 0;
  try {
    for await (const items of splitRecords(input, { recordsPath: options.recordsPath, maxRecordBytes: MAX_RECORD_BYTES })) {
      for (const item of items) {
        if (item.kind === 'record') yield toItem(item.value, index, options);
        else yield { bad: { line: index + 1, reason: `record ${index + 1} of ${item.bytes} bytes is longer than the ${MAX_RECORD_BYTES} allowed` } };
        index += 1;
      }
    }
  } catch (error) {
    if (error instanceof MissingRecordsError) throw missing(key, options);
    // Errors of the bytes below (a broken gzip stream, a reset connection) are theirs to name.
    if (!(error instanceof SplitError)) throw error;
    throw new ObjectDataError(`${key}: not valid JSON (${error.message})`, { context: { key } });
  }
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
