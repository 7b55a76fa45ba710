import { createHash } from 'node:crypto';

export interface EnvelopeContext {
  source: string;
  bucket: string;
  key: string;
  etag: string;
  format: string;
  /** The object's LastModified, the time of events that carry none of their own. */
  fallbackTime: string;
}

/**
 * The deterministic id: the same record of the same object version always gets the same id, so a
 * downstream system can drop the duplicates that at-least-once delivery may cause.
 */
export function eventId(bucket: string, key: string, etag: string, position: number): string {
  return createHash('sha256').update(`${bucket}\n${key}\n${etag}\n${position}`).digest('hex').slice(0, 32);
}

export function envelopeLine(context: EnvelopeContext, position: number, event: Record<string, unknown>, time: string | undefined): string {
  return JSON.stringify({
    id: eventId(context.bucket, context.key, context.etag, position),
    time: time ?? context.fallbackTime,
    source: context.source,
    bucket: context.bucket,
    key: context.key,
    format: context.format,
    event,
  });
}
