import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';
import { nameFields, type FieldSpec } from './tokenize.js';

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
/** Names only a header line holds: a data line never has these as values. */
const HEADER_HINTS = new Set(['srcaddr', 'interface-id', 'version', 'start']);

/**
 * VPC flow logs: space-separated fields named by the header line that AWS writes first in every
 * S3 file (default or custom format). `-` is null, integers are numbers, names use `_` instead of
 * `-` so that SIEM queries need no quoting. The event's time is its `start`.
 */
export const vpcflowFormat: Format = {
  name: 'vpcflow',
  parse(input, context) {
    let specs: FieldSpec[] | undefined;
    return parseLines(input, context.maxRecordBytes, (line, number) => {
      if (line.trim() === '') return undefined;
      const values = line.trim().split(/\s+/);
      if (specs === undefined) {
        const isHeader = values.every((value) => FIELD_NAME.test(value)) && values.some((value) => HEADER_HINTS.has(value));
        specs = (isHeader ? values : VPCFLOW_DEFAULT_FIELDS).map((name) => ({
          name: name.replaceAll('-', '_'),
          ...(NUMERIC_FIELDS.has(name) ? { type: 'number' as const } : {}),
        }));
        if (isHeader) return undefined;
      }
      if (values.length !== specs.length) {
        return { bad: { line: number, reason: `expected ${specs.length} fields as the header names, found ${values.length}` } };
      }
      const { event, error } = nameFields(values, specs);
      if (error) return { bad: { line: number, reason: error } };
      return { event, time: typeof event.start === 'number' ? new Date(event.start * 1000).toISOString() : undefined };
    });
  },
};
