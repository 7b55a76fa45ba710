/**
 * Formats that keep their index at the end (Parquet, zip) cannot be read as they stream; the
 * object is written to a temporary file first, so that disk, not memory, holds it. The file is
 * removed by `dispose`, whether the read finished or stopped.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface Spooled {
  readonly file: string;
  dispose(): Promise<void>;
}

export async function spoolToFile(input: AsyncIterable<Buffer> | NodeJS.ReadableStream, name: string): Promise<Spooled> {
  const dir = await mkdtemp(path.join(tmpdir(), 's3pull-spool-'));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, name);
  try {
    await pipeline(input, createWriteStream(file));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { file, dispose };
}
