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

/** Rows are built and handed on this many at a time, so that a row group's rows never live as objects at once. */
const ROWS_AT_ONCE = 1000;

/**
 * Each row as an object of its columns (64-bit integers as numbers), a slice at a time. A row
 * group is decoded column by column (hyparquet's chunks), and the rows are assembled from the
 * columns as they are handed on: memory is one row group's columns, not its rows as objects (which
 * took twice as much, measured with bench:formats) nor the object.
 */
export async function* parquetRows(input: Readable, key: string): AsyncGenerator<Record<string, unknown>[]> {
  // Loaded at the first Parquet object, not by every process and parse thread.
  const [{ asyncBufferFromFile, parquetMetadataAsync, parquetRead }, { compressors }] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
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
      const chunks = new Map<string, ArrayLike<unknown>[]>();
      try {
        await parquetRead({
          file: buffer,
          metadata,
          rowStart,
          rowEnd,
          compressors,
          onChunk: ({ columnName, columnData }) => {
            const pages = chunks.get(columnName);
            if (pages) pages.push(columnData);
            else chunks.set(columnName, [columnData]);
          },
        });
      } catch (error) {
        throw new ParquetError(`${key}: Parquet rows ${rowStart + 1}–${rowEnd} cannot be read (${(error as Error).message})`);
      }
      const names = [...chunks.keys()];
      const columns = names.map((name) => joined(chunks.get(name)!));
      chunks.clear();
      const count = rowEnd - rowStart;
      for (let first = 0; first < count; first += ROWS_AT_ONCE) {
        const last = Math.min(count, first + ROWS_AT_ONCE);
        const rows: Record<string, unknown>[] = new Array(last - first);
        for (let index = first; index < last; index += 1) {
          const row: Record<string, unknown> = {};
          for (let column = 0; column < names.length; column += 1) {
            const value = columns[column]![index];
            row[names[column]!] = typeof value === 'bigint' ? Number(value) : value;
          }
          rows[index - first] = row;
        }
        yield rows;
      }
      rowStart = rowEnd;
    }
  } finally {
    await spooled.dispose();
  }
}

/** A column's pages as one array (most row groups are one page per column: nothing is copied). */
function joined(pages: ArrayLike<unknown>[]): ArrayLike<unknown> {
  if (pages.length === 1) return pages[0]!;
  const all: unknown[] = [];
  for (const page of pages) for (let index = 0; index < page.length; index += 1) all.push(page[index]);
  return all;
}

/** The object is not the Parquet file it begins like (the caller makes it the object's fault). */
export class ParquetError extends Error {
  override readonly name = 'ParquetError';
}
