import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';

/** W3C fields AWS and IIS document as integers or decimals. */
const NUMERIC = new Set(['sc_bytes', 'cs_bytes', 'sc_status', 'time_taken', 'c_port', 's_port', 'sc_content_len', 'time_to_first_byte', 'sc_substatus', 'sc_win32_status']);

/** `cs(User-Agent)` → `cs_user_agent`, `x-edge-location` → `x_edge_location`. */
export function w3cFieldName(field: string): string {
  return field.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** The fields CloudFront writes URL-encoded in its standard logs. */
export const CLOUDFRONT_ENCODED = new Set(['cs_user_agent', 'cs_referer', 'cs_uri_query', 'cs_cookie', 'cs_uri_stem']);

/**
 * A CloudFront value, decoded once. Where the decoded text could be read two ways (it still holds
 * a `%`, as a doubly-encoded value does, or control characters) the value as written is kept
 * beside it as `<field>_raw`; where it is not valid percent-encoding, it stays as written.
 */
export function decodeCloudFront(event: Record<string, unknown>, name: string, value: string): void {
  if (!value.includes('%')) {
    event[name] = value;
    return;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    event[name] = value;
    return;
  }
  event[name] = decoded;
  if (decoded.includes('%') || /[\u0000-\u001f\u007f]/.test(decoded)) event[`${name}_raw`] = value;
}

/**
 * W3C extended log files (CloudFront standard logs, IIS): `#Fields:` names the columns, which are
 * separated by tabs (CloudFront) or spaces (IIS); other `#` lines are directives. `-` is null;
 * the event's time is its `date` and `time`, which W3C logs write in UTC. CloudFront's URL-encoded
 * fields (user agent, referrer, query string, cookie, URI stem) are decoded. A line with fewer
 * values than `#Fields:` names (written before fields were added) has null for the missing
 * trailing ones; values beyond the names are kept as `field_<n>`.
 */
export const w3cFormat: Format = {
  name: 'w3c',
  parse(input, context) {
    let fields: string[] | undefined;
    let cloudFront = false;
    return parseLines(input, context.maxRecordBytes, (line, number) => {
      if (line.startsWith('#')) {
        if (line.startsWith('#Fields:')) {
          fields = line.slice('#Fields:'.length).trim().split(/\s+/).map(w3cFieldName);
          cloudFront = fields.includes('x_edge_location');
        }
        return undefined;
      }
      if (line.trim() === '') return undefined;
      if (!fields) return { bad: { line: number, reason: 'no #Fields: line before the first entry' } };
      const values = line.includes('\t') ? line.split('\t') : line.trim().split(/ +/);
      const event: Record<string, unknown> = {};
      const count = Math.max(values.length, fields.length);
      for (let index = 0; index < count; index += 1) {
        const name = fields[index] ?? `field_${index + 1}`;
        const value = values[index];
        if (value === undefined || value === '-') event[name] = null;
        else if (NUMERIC.has(name) && /^-?\d+(\.\d+)?$/.test(value)) event[name] = Number(value);
        else if (cloudFront && CLOUDFRONT_ENCODED.has(name)) decodeCloudFront(event, name, value);
        else event[name] = value;
      }
      const stamp = typeof event.date === 'string' && typeof event.time === 'string' ? new Date(`${event.date}T${event.time}Z`) : undefined;
      return { event, time: stamp && !Number.isNaN(stamp.getTime()) ? stamp.toISOString() : undefined };
    });
  },
};
