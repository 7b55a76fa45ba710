import type { Format } from './types.js';
import { readLines, MAX_LINE_BYTES } from './lines-reader.js';

/** The default (version 2) format, used when a file has no header line. */
export const VPCFLOW_DEFAULT_FIELDS = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport',
  'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status',
];

/** Fields AWS documents as integers; every other field stays a string. */
const NUMERIC_FIELDS = new Set([
  'version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp-flags', 'traffic-path',
]);

const FIELD_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * VPC flow logs: space-separated fields named by the header line that AWS writes first in every
 * S3 file (default or custom format). `-` is null, integers are numbers, names use `_` instead of
 * `-` so that SIEM queries need no quoting. The event's time is its `start`.
 */
export const vpcflowFormat: Format = {
  name: 'vpcflow',
  async *parse(input) {
    let fields: string[] | undefined;
    for await (const item of readLines(input)) {
      if ('tooLong' in item) {
        yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than the ${MAX_LINE_BYTES} allowed` } };
        continue;
      }
      const { line, number } = item;
      if (line.trim() === '') continue;
      const values = line.trim().split(/\s+/);
      if (fields === undefined) {
        if (values.every((value) => FIELD_NAME.test(value)) && values.some((value) => value === 'srcaddr' || value === 'interface-id' || value === 'version' || value === 'start')) {
          fields = values;
          continue;
        }
        fields = VPCFLOW_DEFAULT_FIELDS;
      }
      if (values.length !== fields.length) {
        yield { bad: { line: number, reason: `expected ${fields.length} fields as the header names, found ${values.length}` } };
        continue;
      }
      const event: Record<string, unknown> = {};
      let badField: string | undefined;
      for (let index = 0; index < fields.length; index += 1) {
        const name = fields[index]!;
        const value = values[index]!;
        if (value === '-') {
          event[name.replaceAll('-', '_')] = null;
        } else if (NUMERIC_FIELDS.has(name)) {
          const parsed = Number(value);
          if (!Number.isFinite(parsed)) {
            badField = `${name} <${value}> is not a number`;
            break;
          }
          event[name.replaceAll('-', '_')] = parsed;
        } else {
          event[name.replaceAll('-', '_')] = value;
        }
      }
      if (badField) {
        yield { bad: { line: number, reason: badField } };
        continue;
      }
      const start = event.start;
      yield { event, time: typeof start === 'number' ? new Date(start * 1000).toISOString() : undefined };
    }
  },
};
