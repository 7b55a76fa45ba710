import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';
import { nameFields, tokenize, type FieldSpec } from './tokenize.js';

/**
 * A format for one of AWS's space-separated access logs: the fields by position, at least
 * `minimumFields` of them, and the event's own time from one field.
 */
export function accessLogFormat(name: string, specs: FieldSpec[], minimumFields: number, timeOf: (event: Record<string, unknown>) => string | undefined): Format {
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
        const { event, error } = nameFields(values, specs);
        if (error) return { bad: { line: number, reason: error } };
        return { event, time: timeOf(event) };
      }),
  };
}
