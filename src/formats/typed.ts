/** Shared value conversions, so that every format types its fields the same way. */

/** A time as ISO 8601 from epoch seconds or milliseconds (number or string), or a date string. */
export function isoTime(value: unknown, unit: 's' | 'ms' = 's'): string | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const date = new Date(Number(value) * (unit === 's' ? 1000 : 1));
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  if (typeof value === 'string') {
    let text = value.trim();
    // AWS and Umbrella write UTC without a zone ("2026-11-23 10:00:00"), which Date would read as local time.
    if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
    // Suricata writes +0000 without a colon, which Date.parse does not take everywhere.
    const date = new Date(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  return undefined;
}

/**
 * A text field typed as the issue of every format asks: `-` and empty are null, a number written
 * the way JavaScript writes it back is a number. "0123" or a 20-digit id stay strings, so nothing
 * is changed by the conversion.
 */
export function typedValue(text: string): string | number | null {
  if (text === '' || text === '-') return null;
  if (/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(text)) {
    const number = Number(text);
    if (String(number) === text) return number;
  }
  return text;
}

/** The value at a dotted path ("detail.time"), or undefined. */
export function valueAt(record: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = record;
  for (const name of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** Field names that generic formats look for when no time_field is set. */
export const TIME_FIELD_GUESSES = ['timestamp', 'time', '@timestamp', 'eventTime', 'date', 'datetime', 'Timestamp', 'Time', 'Date'] as const;

/** The time of a record from its time_field, or from the first of the usual names it has. */
export function recordTime(record: Record<string, unknown>, timeField: readonly string[] | undefined): string | undefined {
  return findTime(record, timeField)?.time;
}

/** The record's time and the field it came from (to write it back as ISO 8601 where a format owns its values). */
export function findTime(record: Record<string, unknown>, timeField: readonly string[] | undefined): { time: string; field: readonly string[] } | undefined {
  if (timeField) {
    const time = isoTime(valueAt(record, timeField));
    return time === undefined ? undefined : { time, field: timeField };
  }
  for (const name of TIME_FIELD_GUESSES) {
    if (record[name] === undefined || record[name] === null) continue;
    const time = isoTime(record[name]);
    return time === undefined ? undefined : { time, field: [name] };
  }
  return undefined;
}
