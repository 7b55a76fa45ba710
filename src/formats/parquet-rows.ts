/**
 * Rows of a Parquet object (AWS delivers VPC flow logs as Parquet when asked), read row group by
 * row group with hyparquet, so that memory is one row group's, not the object's. Parquet keeps its
 * index at the end of the file, so the object is first written to a temporary file (disk, not
 * memory, holds it), which is removed when the rows have been read or the read stops.
 */
import type { Readable } from 'node:stream';
import { spoolToFile } from '../util/spool.js';

/** A Parquet file begins (and ends) with these four bytes. */
export const PARQUET_MAGIC = Buffer.from('PAR1');

export function isParquet(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).equals(PARQUET_MAGIC);
}

/** Each row as an object of its columns (64-bit integers as numbers), one row group at a time. */
export async function* parquetRows(input: Readable, key: string): AsyncGenerator<Record<string, unknown>[]> {
  // Loaded at the first Parquet object, not by every process and parse thread.
  const [{ asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects }, { compressors }] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
  const spooled = await spoolToFile(input, 'object.parquet');
  try {
    const buffer = await asyncBufferFromFile(spooled.file);
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (error) {
      throw new ParquetError(`${key}: not a readable Parquet file (${(error as Error).message})`);
    }
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = (await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors })) as Record<string, unknown>[];
      } catch (error) {
        throw new ParquetError(`${key}: Parquet rows ${rowStart + 1}–${rowEnd} cannot be read (${(error as Error).message})`);
      }
      for (const row of rows) for (const [name, value] of Object.entries(row)) if (typeof value === 'bigint') row[name] = Number(value);
      yield rows;
      rowStart = rowEnd;
    }
  } finally {
    await spooled.dispose();
  }
}

/** The object is not the Parquet file it begins like (the caller makes it the object's fault). */
export class ParquetError extends Error {
  override readonly name = 'ParquetError';
}
