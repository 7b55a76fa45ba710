import { open, stat, type FileHandle } from 'node:fs/promises';
import { emit } from '../telemetry/events.js';
import path from 'node:path';
import type { OutputRecord, Sink } from './types.js';
import { ndjsonOf } from './ndjson.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { SinkError } from '../util/errors.js';
import { ensureDirSync } from '../util/fs.js';

/** How far back from the end a partial last line is looked for (a batch is at most a few MiB). */
const TAIL_SCAN_BYTES = 64 * 1024 * 1024;

/**
 * Appends NDJSON to a file. Writes are chained so that concurrent objects never interleave inside
 * a line; `reopen` closes and opens the path again, for logrotate's move-and-HUP.
 *
 * No line in the file is ever left torn: a write that fails part-way (disk full) is cut back to
 * where it began, and a file found ending in a partial line when it is opened (a crash in the
 * middle of a write) loses that partial line. Neither was committed, so its events are delivered
 * again by the retry.
 */
export class FileSink implements Sink {
  readonly description: string;
  private handle: FileHandle | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly log: Logger = silentLogger,
  ) {
    this.description = `file ${file}`;
  }

  write(records: OutputRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const data = ndjsonOf(records);
    const result = this.queue.then(async () => {
      let handle: FileHandle | undefined;
      let startSize: number | undefined;
      try {
        handle = await this.ensureOpen();
        // Appends go to the end whatever the offset; the size says where this batch begins.
        const found = await handle.stat();
        if (found.isFile()) startSize = found.size;
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await handle.write(data, offset, data.length - offset);
          offset += bytesWritten;
        }
      } catch (error) {
        if (handle && startSize !== undefined) await handle.truncate(startSize).catch(() => {});
        // A failed handle (disk full, file removed) is dropped so that the next write reopens it,
        // and the reopen cuts any partial line the truncate could not.
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
      throw new SinkError(`cannot write to ${this.file}: ${(error as Error).message}`, { cause: error });
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
      ensureDirSync(path.dirname(this.file));
      // A named pipe or a device is written as it is; only a regular file can hold a torn line.
      const special = await stat(this.file).then((found) => !found.isFile() && !found.isDirectory(), () => false);
      const handle = await open(this.file, special ? 'a' : 'a+', 0o640);
      try {
        const found = await handle.stat();
        if (found.isFile()) await this.cutPartialLine(handle, found.size);
      } catch (error) {
        await handle.close().catch(() => {});
        throw error;
      }
      this.handle = handle;
    }
    return this.handle;
  }

  /** Removes a last line without its newline, left by a write that was cut off. */
  private async cutPartialLine(handle: FileHandle, size: number): Promise<void> {
    if (size === 0) return;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0 && size - end < TAIL_SCAN_BYTES) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline !== -1) {
        await this.truncateTail(handle, size, start + newline + 1);
        return;
      }
      end = start;
    }
    if (end === 0) await this.truncateTail(handle, size, 0);
    // A "line" longer than the scan is not ours to cut; appending after it is the lesser harm.
    else await handle.write('\n');
  }

  private async truncateTail(handle: FileHandle, size: number, keep: number): Promise<void> {
    await handle.truncate(keep);
    emit(this.log, 'output_partial_line_removed', { path: this.file, bytes: size - keep });
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
