import type { Format, ParsedItem } from './types.js';
import { ObjectDataError } from '../util/errors.js';
import { MissingRecordsError, SplitError, splitRecords } from './record-splitter.js';
import { MAX_LINE_BYTES } from './lines-reader.js';

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
  /** Documents may follow one another in one object (one per line, or back to back). */
  concatenated?: boolean;
}

/**
 * A format for documents that hold one array of records (CloudTrail's Records, AWS Config's
 * configurationItems, any `records_path`): one event per record, in bounded memory at any size.
 */
export function jsonDocumentFormat(options: JsonDocumentOptions): Format {
  return {
    name: options.name,
    ...(options.dedupKey ? { dedupKey: options.dedupKey } : {}),
    parse: (input, context) => parseRecords(input, context.key, context.maxRecordBytes ?? MAX_RECORD_BYTES, options),
  };
}

function describePath(path: string[]): string {
  if (path.length === 0) return 'array at the top level';
  return path.length === 1 ? `"${path[0]}" array at the top level` : `"${path.join('.')}" array`;
}

function missing(key: string, options: JsonDocumentOptions): ObjectDataError {
  return new ObjectDataError(`${key}: not ${options.kind} (no ${describePath(options.recordsPath)})`, { context: { key } });
}

/**
 * One path for every size: the splitter is as fast as one JSON.parse of a whole small document,
 * and then no record is serialised again (its text is delivered as the document holds it).
 */
async function* parseRecords(input: AsyncIterable<Buffer | string>, key: string, maxRecordBytes: number, options: JsonDocumentOptions): AsyncIterable<ParsedItem> {
  let index = 0;
  try {
    for await (const items of splitRecords(input, { recordsPath: options.recordsPath, maxRecordBytes, concatenated: options.concatenated ?? false })) {
      for (const item of items) {
        if (item.kind === 'record') yield toItem(item.value, item.json, index, options);
        else yield { bad: { line: index + 1, reason: `record ${index + 1} of ${item.bytes} bytes is longer than max_record_bytes (${maxRecordBytes})` } };
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

function toItem(record: unknown, json: string | undefined, index: number, options: JsonDocumentOptions): ParsedItem {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { bad: { line: index + 1, reason: `record ${index + 1} is not a JSON object` } };
  }
  const item = options.toItem(record as Record<string, unknown>);
  // The text stands for the event only while the format passes the record on unchanged.
  if (json !== undefined && 'event' in item && item.event === record) item.json = json;
  return item;
}
