import type { Format } from './types.js';
import { readLines, MAX_LINE_BYTES } from './lines-reader.js';

/** Line by line: every non-empty line is one event `{ message }`. */
export const linesFormat: Format = {
  name: 'lines',
  async *parse(input) {
    for await (const item of readLines(input)) {
      if ('tooLong' in item) {
        yield { bad: { line: item.number, reason: `line of ${item.tooLong} bytes is longer than the ${MAX_LINE_BYTES} allowed` } };
        continue;
      }
      const { line } = item;
      if (line.trim() === '') continue;
      yield { event: { message: line } };
    }
  },
};
