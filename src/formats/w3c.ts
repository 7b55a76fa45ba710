import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';

/** W3C fields AWS and IIS document as integers or decimals. */
const NUMERIC = new Set(['sc_bytes', 'cs_bytes', 'sc_status', 'time_taken', 'c_port', 's_port', 'sc_content_len', 'time_to_first_byte', 'sc_substatus', 'sc_win32_status']);

/** `cs(User-Agent)` → `cs_user_agent`, `x-edge-location` → `x_edge_location`. */
export function w3cFieldName(field: string): string {
  return field.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * W3C extended log files (CloudFront standard logs, IIS): `#Fields:` names the columns, which are
 * separated by tabs (CloudFront) or spaces (IIS); other `#` lines are directives. `-` is null;
 * the event's time is its `date` and `time`, which W3C logs write in UTC.
 */
export const w3cFormat: Format = {
  name: 'w3c',
  parse(input, context) {
    let fields: string[] | undefined;
    return parseLines(input, context.maxRecordBytes, (line, number) => {
      if (line.startsWith('#')) {
        if (line.startsWith('#Fields:')) fields = line.slice('#Fields:'.length).trim().split(/\s+/).map(w3cFieldName);
        return undefined;
      }
      if (line.trim() === '') return undefined;
      if (!fields) return { bad: { line: number, reason: 'no #Fields: line before the first entry' } };
      const values = line.includes('\t') ? line.split('\t') : line.trim().split(/ +/);
      if (values.length !== fields.length) {
        return { bad: { line: number, reason: `expected ${fields.length} fields as #Fields: names, found ${values.length}` } };
      }
      const event: Record<string, unknown> = {};
      fields.forEach((name, index) => {
        const value = values[index]!;
        event[name] = value === '-' ? null : NUMERIC.has(name) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      });
      const stamp = typeof event.date === 'string' && typeof event.time === 'string' ? new Date(`${event.date}T${event.time}Z`) : undefined;
      return { event, time: stamp && !Number.isNaN(stamp.getTime()) ? stamp.toISOString() : undefined };
    });
  },
};
