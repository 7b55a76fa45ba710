import type { Writable } from 'node:stream';
import type { OutputRecord, Sink } from './types.js';
import { ndjsonOf } from './ndjson.js';
import { SinkError } from '../util/errors.js';

/** NDJSON on standard output; waits for the stream to drain so a slow reader slows the pull. */
export class StdoutSink implements Sink {
  readonly description = 'stdout';

  constructor(private readonly stream: Writable = process.stdout) {}

  write(records: OutputRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stream.write(ndjsonOf(records), (error) => {
        if (error) reject(new SinkError(`cannot write to stdout: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  async reopen(): Promise<void> {}

  async close(): Promise<void> {}
}
