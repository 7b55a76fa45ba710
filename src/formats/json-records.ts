import type { Format } from './types.js';
import { jsonlinesFormat } from './jsonlines.js';

export { isoTime } from './typed.js';

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
