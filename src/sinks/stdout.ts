import type { Writable } from 'node:stream';
import type { Sink } from './types.js';
import { SinkError } from '../util/errors.js';

/** NDJSON on standard output; waits for the stream to drain so a slow reader slows the pull. */
export class StdoutSink implements Sink {
  readonly description = 'stdout';

  constructor(private readonly stream: Writable = process.stdout) {}

  write(lines: string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stream.write(`${lines.join('\n')}\n`, (error) => {
        if (error) reject(new SinkError(`cannot write to stdout: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  async reopen(): Promise<void> {}

  async close(): Promise<void> {}
}
