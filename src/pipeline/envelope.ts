import { createHash } from 'node:crypto';
import type { OutputRecord } from '../sinks/types.js';

export interface EnvelopeContext {
  /** The s3pull source id. */
  sourceId: string;
  /** The event's source name: the id, or what identifier_pattern made of the key. */
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
 * downstream system can drop the duplicates that at-least-once delivery may cause. 20 hex digits
 * of SHA-256 over (bucket, key, ETag), then the record's position as 12 hex digits: one hash per
 * object rather than per event, and unique within the object by construction.
 */
export function eventId(bucket: string, key: string, etag: string, position: number): string {
  return objectIdPrefix(bucket, key, etag) + positionHex(position);
}

function objectIdPrefix(bucket: string, key: string, etag: string): string {
  return createHash('sha256').update(`${bucket}\n${key}\n${etag}`).digest('hex').slice(0, 20);
}

function positionHex(position: number): string {
  return position.toString(16).padStart(12, '0');
}

/** Strings that recur in every event (field names, categories, outcomes), serialised once each. */
const MAX_CACHED_STRINGS = 256;

/**
 * Builds event lines for one object. The fields that are the same for every event of the
 * object are serialised once; per event only the id, time and the event itself are, and the
 * event not at all when the format hands over its text.
 */
export class EnvelopeWriter {
  private readonly idPrefix: string;
  private readonly middle: string;
  private readonly fallbackTime: string;
  private readonly context: EnvelopeContext;
  private readonly quoted = new Map<string, string>();

  constructor(context: EnvelopeContext) {
    this.context = context;
    this.idPrefix = objectIdPrefix(context.bucket, context.key, context.etag);
    this.fallbackTime = context.fallbackTime;
    this.middle =
      `,"source":${JSON.stringify(context.source)}` +
      (context.source === context.sourceId ? '' : `,"source_id":${JSON.stringify(context.sourceId)}`) +
      `,"bucket":${JSON.stringify(context.bucket)},"key":${JSON.stringify(context.key)},"format":${JSON.stringify(context.format)}`;
  }

  /**
   * `json` is the event's own text when the format has it (one line, the record unchanged); the
   * event is serialised only without it. A RangeError means the event is nested too deeply for
   * JSON.stringify.
   */
  record(position: number, event: Record<string, unknown>, time: string | undefined, fields?: Record<string, string>, json?: string): OutputRecord {
    const id = this.idPrefix + positionHex(position);
    const shownTime = time ?? this.fallbackTime;
    let derived = '';
    if (fields) for (const name in fields) derived += `,${this.quote(name)}:${this.quote(fields[name]!)}`;
    const head = `{"id":"${id}","time":${JSON.stringify(shownTime)}${this.middle}${derived},"event":`;
    const line = `${head}${json ?? JSON.stringify(event)}}`;
    return { id, time: shownTime, source: this.context.source, sourceId: this.context.sourceId, format: this.context.format, line, eventOffset: head.length };
  }

  line(position: number, event: Record<string, unknown>, time: string | undefined, fields?: Record<string, string>, json?: string): string {
    return this.record(position, event, time, fields, json).line;
  }

  private quote(text: string): string {
    let quoted = this.quoted.get(text);
    if (quoted === undefined) {
      quoted = JSON.stringify(text);
      if (this.quoted.size < MAX_CACHED_STRINGS) this.quoted.set(text, quoted);
    }
    return quoted;
  }
}
