/**
 * CloudFront real-time logs, as Kinesis Data Firehose writes them to S3: one record per line, the
 * values separated by tabs, in the order of the real-time log configuration's fields. The files
 * carry no header, so the source names the fields (`cloudfront_realtime.fields`, as the
 * configuration lists them). Names use `_` for `-` (`c-ip` → `c_ip`, `timestamp(ms)` →
 * `timestamp_ms`), `-` is null, counts and durations are numbers, the fields CloudFront writes
 * URL-encoded are decoded as in its standard logs, and the event's time is its `timestamp`
 * (epoch seconds with milliseconds) or `timestamp(ms)`.
 */
import type { Format, ParsedItem } from './types.js';
import { parseLines } from './lines-reader.js';
import { CLOUDFRONT_ENCODED, decodeCloudFront, w3cFieldName } from './w3c.js';

/** Fields AWS documents as counts, sizes, durations or numbers; every other field stays a string. */
const NUMERIC = new Set([
  'timestamp', 'timestamp_ms', 'time_to_first_byte', 'sc_status', 'sc_bytes', 'cs_bytes', 'time_taken', 'sc_content_len',
  'sc_range_start', 'sc_range_end', 'c_port', 'cs_headers_count', 'asn', 'origin_fbl', 'origin_lbl',
  'cmcd_encoded_bitrate', 'cmcd_buffer_length', 'cmcd_object_duration', 'cmcd_deadline', 'cmcd_measured_throughput',
  'cmcd_playback_rate', 'cmcd_requested_maximum_throughput', 'cmcd_top_bitrate', 'cmcd_version',
]);
const NUMBER = /^-?\d+(\.\d+)?$/;
/** As in standard logs, and the viewer's headers, which real-time logs write URL-encoded one per line (`%0A`). */
const ENCODED = new Set([...CLOUDFRONT_ENCODED, 'cs_headers', 'cs_header_names']);

export function cloudfrontRealtimeFormat(configured: readonly string[]): Format {
  const names = configured.map(w3cFieldName);
  return {
    name: 'cloudfront_realtime',
    parse(input, context) {
      return parseLines(input, context.maxRecordBytes, (line, number): ParsedItem | undefined => {
        if (line.trim() === '') return undefined;
        if (line.startsWith('#Version:') || line.startsWith('#Fields:')) {
          return { bad: { line: number, reason: 'a CloudFront standard log header; real-time logs have none (a standard log is read with format w3c)' } };
        }
        const values = line.split('\t');
        if (values.length !== names.length) {
          return { bad: { line: number, reason: `${values.length} tab-separated values where cloudfront_realtime.fields names ${names.length} (the fields must be the real-time log configuration's, in its order)` } };
        }
        const event: Record<string, unknown> = {};
        for (let index = 0; index < names.length; index += 1) {
          const name = names[index]!;
          const value = values[index]!;
          if (value === '-' || value === '') event[name] = null;
          else if (NUMERIC.has(name) && NUMBER.test(value)) event[name] = Number(value);
          else if (ENCODED.has(name)) decodeCloudFront(event, name, value);
          else event[name] = value;
        }
        const stamp = timeOf(event);
        if (stamp === 'bad') return { bad: { line: number, reason: `timestamp ${String(event.timestamp ?? event.timestamp_ms)} is not epoch seconds (such as 1795428000.123)` } };
        return { event, time: stamp };
      });
    },
  };
}

function timeOf(event: Record<string, unknown>): string | undefined | 'bad' {
  const seconds = event.timestamp;
  const milliseconds = event.timestamp_ms;
  if (seconds === undefined && milliseconds === undefined) return undefined;
  if (seconds === null || milliseconds === null) return undefined;
  const ms = typeof seconds === 'number' ? Math.round(seconds * 1000) : typeof milliseconds === 'number' ? milliseconds : Number.NaN;
  const time = new Date(ms);
  return Number.isNaN(time.getTime()) ? 'bad' : time.toISOString();
}
