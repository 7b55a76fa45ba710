import type { Format } from './types.js';
import { readLines, MAX_LINE_BYTES } from './lines-reader.js';

/** One JSON object per line (NDJSON). A line that is not a JSON object is skipped and counted. */
export const jsonlinesFormat: Format = {
  name: 'jsonlines',
  async *parse(input) {
    for await (const item of readLines(input)) {
      if ('tooLong' in item) {
        yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than the ${MAX_LINE_BYTES} allowed` } };
        continue;
      }
      const { line, number } = item;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        yield { bad: { line: number, reason: `invalid JSON: ${(error as Error).message}` } };
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        yield { bad: { line: number, reason: 'not a JSON object' } };
        continue;
      }
      yield { event: value as Record<string, unknown> };
    }
  },
};
