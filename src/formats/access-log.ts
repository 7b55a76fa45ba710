import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';
import { nameFields, tokenize, type FieldSpec } from './tokenize.js';

/**
 * A format for one of AWS's space-separated access logs: the fields by position, at least
 * `minimumFields` of them, and the event's own time from one field. `shape` checks that a line
 * is one of this log's lines before its fields are named (a reason when it is not), so that a
 * line of another log is a bad line that says so, never a record shifted into the wrong fields;
 * `derive` adds fields made from the named ones.
 */
export function accessLogFormat(
  name: string,
  specs: FieldSpec[],
  minimumFields: number,
  timeOf: (event: Record<string, unknown>) => string | undefined,
  checks: { shape?: (values: string[]) => string | undefined; derive?: (event: Record<string, unknown>) => void } = {},
): Format {
  return {
    name,
    parse: (input, context) =>
      parseLines(input, context.maxRecordBytes, (line, number) => {
        if (line.trim() === '') return undefined;
        const values = tokenize(line);
        if (!values) return { bad: { line: number, reason: 'unbalanced quotes or brackets' } };
        if (values.length < minimumFields) {
          return { bad: { line: number, reason: `expected at least ${minimumFields} fields of a ${name} log, found ${values.length}` } };
        }
        const wrong = checks.shape?.(values);
        if (wrong) return { bad: { line: number, reason: wrong } };
        const { event, error } = nameFields(values, specs);
        if (error) return { bad: { line: number, reason: error } };
        checks.derive?.(event);
        return { event, time: timeOf(event) };
      }),
  };
}

/** An ISO 8601 time as AWS writes it in access logs; one without a zone is UTC (NLB writes none). */
export function accessLogTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  return Number.isFinite(Date.parse(zoned)) ? zoned : undefined;
}

/** What a line that is not of `name`'s log looks like, to say which format would read it. */
export function otherLogHint(values: string[]): string {
  const [first, second] = values;
  if (first === 'tls' && /^\d+\.\d+$/.test(second ?? '')) return ' (a Network Load Balancer log line: format: nlb)';
  if (accessLogTime(first) !== undefined && /^[0-9a-f.:]+$/i.test(second ?? '') && values.length >= 11 && values.length <= 13) return ' (an Application Load Balancer connection log line: format: alb_connection)';
  if (accessLogTime(first) !== undefined) return ' (a Classic Load Balancer log line: format: elb)';
  return '';
}
