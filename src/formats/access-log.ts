import type { Format } from './types.js';
import { readLines, MAX_LINE_BYTES } from './lines-reader.js';
import { nameFields, tokenize, type FieldSpec } from './tokenize.js';

/**
 * A format for one of AWS's space-separated access logs: the fields by position, at least
 * `minimumFields` of them, and the event's own time from one field.
 */
export function accessLogFormat(name: string, specs: FieldSpec[], minimumFields: number, timeOf: (event: Record<string, unknown>) => string | undefined): Format {
  return {
    name,
    async *parse(input) {
      for await (const item of readLines(input)) {
        if ('tooLong' in item) {
          yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than the ${MAX_LINE_BYTES} allowed` } };
          continue;
        }
        if (item.line.trim() === '') continue;
        const values = tokenize(item.line);
        if (!values) {
          yield { bad: { line: item.number, reason: 'unbalanced quotes or brackets' } };
          continue;
        }
        if (values.length < minimumFields) {
          yield { bad: { line: item.number, reason: `expected at least ${minimumFields} fields of a ${name} log, found ${values.length}` } };
          continue;
        }
        const { event, error } = nameFields(values, specs);
        if (error) {
          yield { bad: { line: item.number, reason: error } };
          continue;
        }
        yield { event, time: timeOf(event) };
      }
    },
  };
}
