/**
 * What a queue message says, whatever brought it: an S3 event notification (several records a
 * message), the same wrapped by SNS (raw delivery or not), an EventBridge "Object Created"
 * event, or CloudTrail's own SNS notification of a delivered log file. Keys are decoded per
 * shape: S3 notifications form-encode them (`+` is a space), EventBridge and CloudTrail do not.
 */
import type { ObjectRef } from '../aws/types.js';

/** An object a message announces, with the key's other reading where the encoding is doubtful. */
export interface AnnouncedObject extends ObjectRef {
  /** The key's other reading (as written, or form-decoded), when it differs: tried once if the key is gone. */
  alternateKey?: string | undefined;
}

export type Notification =
  | { kind: 'objects'; shape: NotificationShape; objects: AnnouncedObject[]; ignored: number }
  | { kind: 'test'; shape: NotificationShape }
  /** A known shape announcing no created object (a deletion, a tag change): deleted and counted. */
  | { kind: 'ignored'; shape: NotificationShape; what: string }
  /** None of the shapes s3pull knows: left for the queue's redrive policy. */
  | { kind: 'unknown'; reason: string };

export type NotificationShape = 's3' | 'sns' | 'eventbridge' | 'cloudtrail';

export function parseNotification(body: string): Notification {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return { kind: 'unknown', reason: 'the body is not JSON' };
  }
  if (!isObject(document)) return { kind: 'unknown', reason: 'the body is not a JSON object' };
  if (document.Type === 'Notification' && typeof document.Message === 'string') {
    // SNS without raw delivery: the S3 (or CloudTrail) notification is a string inside.
    const inner = parseNotification(document.Message);
    if (inner.kind === 'unknown') return { kind: 'unknown', reason: `an SNS notification whose message is not one s3pull knows (${inner.reason})` };
    return { ...inner, shape: inner.shape === 's3' ? 'sns' : inner.shape };
  }
  return parseDocument(document);
}

function parseDocument(document: Record<string, unknown>): Notification {
  if (document.Event === 's3:TestEvent') return { kind: 'test', shape: 's3' };
  if (Array.isArray(document.Records)) return fromS3Event(document.Records);
  if (document.source === 'aws.s3' && typeof document['detail-type'] === 'string') return fromEventBridge(document);
  if (typeof document.s3Bucket === 'string' && Array.isArray(document.s3ObjectKey)) return fromCloudTrail(document);
  return { kind: 'unknown', reason: 'no Records, no EventBridge detail and no s3Bucket' };
}

function fromS3Event(records: unknown[]): Notification {
  const objects: AnnouncedObject[] = [];
  let ignored = 0;
  for (const record of records) {
    if (!isObject(record) || !isObject(record.s3)) return { kind: 'unknown', reason: 'a record without s3' };
    const eventName = String(record.eventName ?? '');
    if (!eventName.startsWith('ObjectCreated:')) {
      ignored += 1;
      continue;
    }
    const bucket = isObject(record.s3.bucket) ? record.s3.bucket.name : undefined;
    const object = isObject(record.s3.object) ? record.s3.object : undefined;
    if (typeof bucket !== 'string' || !object || typeof object.key !== 'string') return { kind: 'unknown', reason: 'a record without s3.bucket.name or s3.object.key' };
    const key = decodeFormKey(object.key);
    objects.push({
      bucket,
      key,
      ...(key !== object.key ? { alternateKey: object.key } : {}),
      etag: typeof object.eTag === 'string' ? unquote(object.eTag) : '',
      versionId: typeof object.versionId === 'string' && object.versionId !== '' ? object.versionId : undefined,
      size: Number(object.size ?? 0),
      lastModified: dateOf(record.eventTime),
      region: typeof record.awsRegion === 'string' ? record.awsRegion : undefined,
    });
  }
  if (objects.length === 0) return { kind: 'ignored', shape: 's3', what: `${ignored} record(s) that create no object` };
  return { kind: 'objects', shape: 's3', objects, ignored };
}

function fromEventBridge(event: Record<string, unknown>): Notification {
  const detailType = String(event['detail-type']);
  if (detailType !== 'Object Created') return { kind: 'ignored', shape: 'eventbridge', what: `an EventBridge "${detailType}" event` };
  const detail = isObject(event.detail) ? event.detail : undefined;
  const bucket = detail && isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = detail && isObject(detail.object) ? detail.object : undefined;
  if (typeof bucket !== 'string' || !object || typeof object.key !== 'string') return { kind: 'unknown', reason: 'an EventBridge event without detail.bucket.name or detail.object.key' };
  return {
    kind: 'objects',
    shape: 'eventbridge',
    ignored: 0,
    objects: [
      {
        bucket,
        // EventBridge keys are not encoded; a literal "%2B" or "+" is the key's own (tried
        // form-decoded once if gone, for a producer that encoded it anyway).
        key: object.key,
        ...(decodeFormKey(object.key) !== object.key ? { alternateKey: decodeFormKey(object.key) } : {}),
        etag: typeof object.etag === 'string' ? unquote(object.etag) : '',
        versionId: typeof object['version-id'] === 'string' ? object['version-id'] : undefined,
        size: Number(object.size ?? 0),
        lastModified: dateOf(event.time),
        region: typeof event.region === 'string' ? event.region : undefined,
      },
    ],
  };
}

function fromCloudTrail(notification: Record<string, unknown>): Notification {
  const bucket = notification.s3Bucket as string;
  const keys = (notification.s3ObjectKey as unknown[]).filter((key): key is string => typeof key === 'string');
  return {
    kind: 'objects',
    shape: 'cloudtrail',
    ignored: 0,
    // CloudTrail names the files it delivered, nothing more: no ETag, size or time.
    // Size -1: unknown (never read as an empty object).
    objects: keys.map((key) => ({ bucket, key, etag: '', size: -1, lastModified: new Date() })),
  };
}

/** S3 notifications form-encode keys: `+` is a space, `%2B` a plus (and moto writes `/` as `%2F`). */
export function decodeFormKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    return encoded;
  }
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

function dateOf(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date();
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
