import type { Format } from './types.js';
import { parseLines } from './lines-reader.js';

/** Line by line: every non-empty line is one event `{ message }`. */
export const linesFormat: Format = {
  name: 'lines',
  parse: (input, context) => parseLines(input, context.maxRecordBytes, (line) => (line.trim() === '' ? undefined : { event: { message: line } })),
};
