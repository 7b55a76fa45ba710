/**
 * Reads one object through the same decode and parse path as a poll, without delivering or
 * recording anything: for `s3pull test`.
 */
import type { ObjectInfo, S3Getter } from '../aws/types.js';
import type { Format } from '../formats/types.js';
import { parseObject } from '../formats/parse-object.js';
import { EnvelopeWriter } from './envelope.js';

export interface Preview {
  events: number;
  badLines: number;
  firstBad?: { line: number; reason: string } | undefined;
  /** The first event as it would be delivered (envelope and all). */
  firstLine?: string | undefined;
}

export async function previewObject(
  getter: S3Getter,
  object: ObjectInfo,
  format: Format,
  envelope: { sourceId: string; source: (key: string) => string; bucket: string; format: string },
  signal: AbortSignal,
): Promise<Preview> {
  const fetched = await getter.get(object.key, signal);
  try {
    const writer = new EnvelopeWriter({ ...envelope, source: envelope.source(object.key), key: object.key, etag: fetched.etag || object.etag, fallbackTime: object.lastModified.toISOString() });
    const preview: Preview = { events: 0, badLines: 0 };
    let position = 0;
    for await (const item of parseObject(format, fetched.body, { key: object.key })) {
      if ('bad' in item) {
        preview.badLines += 1;
        preview.firstBad ??= item.bad;
      } else {
        preview.events += 1;
        preview.firstLine ??= writer.line(position, item.event, item.time, item.fields, item.json);
      }
      position += 1;
    }
    return preview;
  } finally {
    fetched.body.destroy();
  }
}
