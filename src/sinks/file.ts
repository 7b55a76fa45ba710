import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { OutputRecord, Sink } from './types.js';
import { SinkError } from '../util/errors.js';

/**
 * Appends NDJSON to a file. Writes are chained so that concurrent objects never interleave inside
 * a line; `reopen` closes and opens the path again, for logrotate's move-and-HUP.
 */
export class FileSink implements Sink {
  readonly description: string;
  private handle: FileHandle | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {
    this.description = `file ${file}`;
  }

  write(records: OutputRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const data = Buffer.from(joinLines(records));
    const result = this.queue.then(async () => {
      try {
        const handle = await this.ensureOpen();
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await handle.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      } catch (error) {
        // A failed handle (disk full, file removed) is dropped so that the next write reopens it.
        await this.closeHandle().catch(() => {});
        throw new SinkError(`cannot write to ${this.file}: ${(error as Error).message}`, { cause: error });
      }
    });
    this.queue = result.catch(() => {});
    return result;
  }

  async probe(): Promise<{ ok: true; text: string }> {
    try {
      await this.ensureOpen();
    } catch (error) {
      throw new Error(`cannot write to ${this.file}: ${(error as Error).message}`);
    }
    return { ok: true, text: `file ${this.file}: writable` };
  }

  reopen(): Promise<void> {
    const result = this.queue.then(() => this.closeHandle());
    this.queue = result.catch(() => {});
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.closeHandle();
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (!this.handle) {
      await mkdir(path.dirname(this.file), { recursive: true });
      this.handle = await open(this.file, 'a', 0o640);
    }
    return this.handle;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

export function joinLines(records: OutputRecord[]): string {
  let text = '';
  for (const record of records) text += record.line + '\n';
  return text;
}
