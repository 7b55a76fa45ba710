import type { Format, ParsedItem } from './types.js';
import { parseLines } from './lines-reader.js';
import { recordTime } from './typed.js';

/** One JSON object per line (NDJSON). A line that is not a JSON object is skipped and counted. */
export const jsonlinesFormat: Format = {
  name: 'jsonlines',
  parse: (input, context) => parseLines(input, context.maxRecordBytes, parseJsonLine),
};

/** A JSON-lines format whose events carry their own time somewhere in the record. */
export function jsonRecordsFormat(name: string, timeOf: (record: Record<string, unknown>) => string | undefined): Format {
  return {
    name,
    async *parse(input, context) {
      for await (const item of jsonlinesFormat.parse(input, context)) {
        yield 'event' in item ? { event: item.event, time: timeOf(item.event) } : item;
      }
    },
  };
}

/** `jsonlines` with each event's time from `time_field`, or from the usual names (timestamp, time, …). */
export function jsonlinesWithTime(timeField: string | undefined): Format {
  const path = timeField?.split('.');
  return jsonRecordsFormat('jsonlines', (record) => recordTime(record, path));
}

/** A line as a JSON object; nothing for a blank line, a counted bad line for anything else. */
export function parseJsonLine(line: string, number: number): Extract<ParsedItem, { event: unknown }> | Extract<ParsedItem, { bad: unknown }> | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { bad: { line: number, reason: `invalid JSON: ${(error as Error).message}` } };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { bad: { line: number, reason: 'not a JSON object' } };
  return { event: value as Record<string, unknown> };
}
