import type { Format } from './types.js';
import { jsonlinesFormat } from './jsonlines.js';

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

/** A time as ISO 8601 from epoch seconds or milliseconds (number or string), or a date string. */
export function isoTime(value: unknown, unit: 's' | 'ms' = 's'): string | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const date = new Date(Number(value) * (unit === 's' ? 1000 : 1));
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value === 'string') {
    // Suricata writes +0000 without a colon, which Date.parse does not take everywhere.
    const date = new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  return undefined;
}
