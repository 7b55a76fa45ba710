import type { Format } from './types.js';
import { readLines } from './lines-reader.js';

/** Line by line: every non-empty line is one event `{ message }`. */
export const linesFormat: Format = {
  name: 'lines',
  async *parse(input) {
    for await (const { line } of readLines(input)) {
      if (line.trim() === '') continue;
      yield { event: { message: line } };
    }
  },
};
