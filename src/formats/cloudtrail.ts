import type { Format, ParsedItem } from './types.js';
import { jsonDocumentFormat } from './json-document.js';
import { classifyCloudTrail } from './cloudtrail-categories.js';
import { parseLines } from './lines-reader.js';
import { peek } from './peek.js';

const cloudTrailItem = (record: Record<string, unknown>, json?: string): ParsedItem => {
  const { category, outcome } = classifyCloudTrail(record);
  return {
    event: record,
    time: typeof record.eventTime === 'string' ? record.eventTime : undefined,
    fields: { category, outcome },
    ...(json !== undefined ? { json } : {}),
  };
};

// CloudTrail writes global service events to more than one file; eventID is unique per account.
const dedupKey: Format['dedupKey'] = (event) =>
  typeof event.eventID === 'string' ? `${typeof event.recipientAccountId === 'string' ? event.recipientAccountId : ''}/${event.eventID}` : undefined;

// Firehose and exports put several log files' documents in one object, one per line or back to back.
const documentFormat = jsonDocumentFormat({ name: 'cloudtrail', recordsPath: ['Records'], kind: 'a CloudTrail file', toItem: (record) => cloudTrailItem(record), dedupKey, concatenated: true });

/** How much of an object is looked at to tell its shape: the first key of its first object. */
const PEEK_BYTES = 4096;
const FIRST_KEY = /^\uFEFF?\s*\{\s*"((?:[^"\\]|\\.)*)"\s*:/;

/**
 * CloudTrail in every shape it reaches S3, told apart by the first key of the object's first
 * JSON object: the log file CloudTrail writes (`{"Records": [...]}`, split record by record as
 * it streams, at any size; several such documents one after another are read in turn);
 * otherwise one JSON object per line, as Firehose and exports write them: a CloudTrail record,
 * or an EventBridge "AWS API Call via CloudTrail" event (the record in its `detail`). Each event gets its
 * `category` and `outcome` (cloudtrail-categories.ts) beside it in the envelope.
 */
export function createCloudTrailFormat(): Format {
  return {
    name: 'cloudtrail',
    dedupKey,
    async *parse(input, context) {
      const { head, ended, rest } = await peek(input, PEEK_BYTES);
      if (shapeOf(head, ended) === 'document') yield* documentFormat.parse(rest, context);
      else yield* parseLines(rest, context.maxRecordBytes, lineItems);
    },
  };
}

/** Keys CloudTrail records begin with (as CloudTrail writes them, or sorted by a transformation). */
const RECORD_KEYS = new Set(['eventVersion', 'eventTime', 'eventName', 'eventSource', 'eventID', 'awsRegion', 'userIdentity', 'additionalEventData', 'apiVersion']);

/**
 * The log file, or an event per line: by the object's first line when the first bytes hold it,
 * else by its first key. Anything else is read as a document, whose error names what is wrong
 * ("not a CloudTrail file"), rather than as lines that would each be refused.
 */
function shapeOf(head: string, ended: boolean): 'document' | 'lines' {
  const firstKey = FIRST_KEY.exec(head)?.[1];
  if (firstKey === undefined || firstKey === 'Records') return 'document';
  const newline = head.indexOf('\n');
  if (newline === -1 && !ended) return RECORD_KEYS.has(firstKey) || firstKey === 'version' ? 'lines' : 'document';
  try {
    const first: unknown = JSON.parse(newline === -1 ? head : head.slice(0, newline));
    if (!isObject(first)) return 'document';
    return isCloudTrailRecord(first) || (typeof first['detail-type'] === 'string' && isObject(first.detail)) ? 'lines' : 'document';
  } catch {
    return 'document';
  }
}

/** One line of a line-per-event object: its events, or why it has none. */
function lineItems(line: string, number: number): ParsedItem | ParsedItem[] | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { bad: { line: number, reason: `not valid JSON (${(error as Error).message})` } };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { bad: { line: number, reason: 'not a JSON object' } };
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.Records)) {
    return object.Records.map((record, index) =>
      isObject(record) ? cloudTrailItem(record) : { bad: { line: number, reason: `record ${index + 1} of the line is not a JSON object` } },
    );
  }
  if (typeof object['detail-type'] === 'string' && isObject(object.detail)) {
    if (!isCloudTrailRecord(object.detail)) return { bad: { line: number, reason: `an EventBridge event of "${object['detail-type']}", not a CloudTrail record` } };
    return cloudTrailItem(object.detail);
  }
  if (!isCloudTrailRecord(object)) return { bad: { line: number, reason: 'not a CloudTrail record (no eventVersion, eventTime or eventName)' } };
  // The line is the record as written: delivered as it is, not serialised again.
  return cloudTrailItem(object, line.trim());
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isCloudTrailRecord = (record: Record<string, unknown>) => 'eventVersion' in record || 'eventTime' in record || 'eventName' in record;

export const cloudtrailFormat = createCloudTrailFormat();
