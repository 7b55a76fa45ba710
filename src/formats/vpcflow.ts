import type { Format, ParsedItem } from './types.js';
import { parseLines } from './lines-reader.js';
import { nameFields, type FieldSpec } from './tokenize.js';
import { peek } from './peek.js';
import { isParquet, parquetRows, ParquetError } from './parquet-rows.js';
import { ObjectDataError } from '../util/errors.js';

/** The default (version 2) format, used when a file has no header line and the source names no fields. */
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
const HEADER_HINTS = new Set(['srcaddr', 'interface-id', 'version', 'start', 'dstaddr', 'account-id', 'log-status']);

function specsOf(names: readonly string[]): FieldSpec[] {
  return names.map((name) => ({ name: name.replaceAll('-', '_'), ...(NUMERIC_FIELDS.has(name) ? { type: 'number' as const } : {}) }));
}

/**
 * VPC flow logs: space-separated fields named by the header line that AWS writes first in every
 * S3 file (default or custom format), or by the source's `vpcflow.fields` where the records come
 * without one. `-` is null, integers are numbers, names use `_` instead of `-` so that SIEM
 * queries need no quoting. The event's time is its `start`.
 *
 * A header line inside a file (files joined by an export or by Firehose) is skipped when it names the
 * same fields, and names the fields of the lines after it when it does not. A header that differs
 * from `vpcflow.fields` is reported once as a bad line, and its own fields are used: the lines
 * below it were written in its format, and reading them by another would shift every value.
 */
function vpcflow(configured: readonly string[] | undefined): Format {
  return {
    name: 'vpcflow',
    async *parse(input, context) {
      const { headBytes, rest } = await peek(input, 4);
      if (isParquet(headBytes)) {
        yield* parquetFlows(rest, context.key);
        return;
      }
      input = rest;
      let names: readonly string[] | undefined = configured;
      let specs: FieldSpec[] | undefined = configured ? specsOf(configured) : undefined;
      yield* parseLines(input, context.maxRecordBytes, (line, number) => {
        if (line.trim() === '') return undefined;
        const values = line.trim().split(/\s+/);
        const isHeader = values.every((value) => FIELD_NAME.test(value)) && values.some((value) => HEADER_HINTS.has(value));
        if (isHeader) {
          const same = names !== undefined && names.length === values.length && names.every((name, index) => name === values[index]);
          const disagrees = !same && names === configured && configured !== undefined;
          names = values;
          specs = specsOf(values);
          if (disagrees) return { bad: { line: number, reason: `the header names other fields than vpcflow.fields (${values.join(' ')}); the lines below it are read by the header` } };
          return undefined;
        }
        if (specs === undefined) {
          names = VPCFLOW_DEFAULT_FIELDS;
          specs = specsOf(VPCFLOW_DEFAULT_FIELDS);
        }
        if (values.length !== specs.length) {
          const by = names === configured ? 'vpcflow.fields names' : names === VPCFLOW_DEFAULT_FIELDS ? 'the default format names (no header line, no vpcflow.fields)' : 'the header names';
          return { bad: { line: number, reason: `expected ${specs.length} fields as ${by}, found ${values.length}` } };
        }
        const { event, error } = nameFields(values, specs);
        if (error) return { bad: { line: number, reason: error } };
        return { event, time: typeof event.start === 'number' ? new Date(event.start * 1000).toISOString() : undefined };
      });
    },
  };
}

/**
 * Flow logs delivered as Parquet: the columns are the fields (named with `_`, as AWS names them
 * in Parquet), typed as in the text format, so an event is the same whichever way it came.
 */
async function* parquetFlows(input: Parameters<Format['parse']>[0], key: string): AsyncIterable<ParsedItem> {
  // Each column's event name and type, worked out once, not for every row.
  const naming = new Map<string, { name: string; numeric: boolean }>();
  const namingOf = (column: string) => {
    let found = naming.get(column);
    if (!found) {
      const name = column.replaceAll('-', '_');
      found = { name, numeric: NUMERIC_FIELDS.has(name.replaceAll('_', '-')) };
      naming.set(column, found);
    }
    return found;
  };
  try {
    for await (const rows of parquetRows(input, key)) {
      for (const row of rows) {
        const event: Record<string, unknown> = {};
        for (const column in row) {
          const value = row[column];
          const { name, numeric } = namingOf(column);
          event[name] = value === undefined || value === null || value === '-' ? null : numeric && typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
        }
        yield { event, time: typeof event.start === 'number' ? new Date(event.start * 1000).toISOString() : undefined };
      }
    }
  } catch (error) {
    if (error instanceof ParquetError) throw new ObjectDataError(error.message, { cause: error, context: { key } });
    throw error;
  }
}

export const vpcflowFormat: Format = vpcflow(undefined);

/** VPC flow logs in the format the source names (`vpcflow.fields`); a header line is not needed. */
export function vpcflowWithFields(fields: readonly string[]): Format {
  return vpcflow(fields);
}
