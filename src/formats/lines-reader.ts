import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Yields each line of a byte stream with its 1-based number; `\r\n` and `\n` both end a line. */
export async function* readLines(input: Readable): AsyncIterable<{ line: string; number: number }> {
  const reader = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of reader) {
      number += 1;
      yield { line, number };
    }
  } finally {
    reader.close();
  }
}
