import { parse as csvParser, type CsvError } from 'csv-parse';
import type { Format } from './types.js';
import { findTime, typedValue } from './typed.js';
import { MAX_LINE_BYTES } from './lines-reader.js';

export interface CsvFormatOptions {
  /** Column names; when absent, the first line of each file names them. */
  columns?: string[] | undefined;
  /** Whether files begin with a header line to pass over (default: only when columns are not given). */
  header?: boolean | undefined;
  delimiter: string;
  timeField?: string | undefined;
}

/**
 * CSV with a header line, or with the columns given in the config (Cisco Umbrella writes none).
 * Values are typed like every other format's (empty and `-` are null, numbers are numbers); a
 * malformed line is skipped and counted, and the lines after it are still read.
 */
export function csvFormat(options: CsvFormatOptions): Format {
  const timeField = options.timeField ? [options.timeField] : undefined;
  const hasHeader = options.header ?? options.columns === undefined;
  return {
    name: 'csv',
    async *parse(input, context) {
      // csv-parse reports skipped lines as it parses, ahead of the records we have taken; they are
      // given out in line order so that positions (event ids, resume points) never depend on chunking.
      const skipped: { bad: { line: number; reason: string } }[] = [];
      const parser = input.pipe(
        csvParser({
          delimiter: options.delimiter,
          bom: true,
          info: true,
          relax_column_count: true,
          skip_empty_lines: true,
          skip_records_with_error: true,
          // A quote left open would otherwise gather the rest of the object into one field.
          max_record_size: context.maxRecordBytes ?? MAX_LINE_BYTES,
        }),
      );
      parser.on('skip', (error: CsvError) => {
        skipped.push({ bad: { line: Number((error as CsvError & { lines?: number }).lines ?? 0), reason: `malformed CSV: ${error.message}` } });
      });
      let columns = options.columns;
      let first = true;
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        while (skipped.length > 0 && skipped[0]!.bad.line < info.lines) yield skipped.shift()!;
        if (first) {
          first = false;
          if (hasHeader) {
            columns ??= record.map((name) => name.trim());
            continue;
          }
        }
        // Missing trailing values are null; values beyond the columns (a newer log version) are
        // kept as field_<n>, so nothing is lost.
        const event: Record<string, unknown> = {};
        const width = Math.max(columns!.length, record.length);
        for (let index = 0; index < width; index += 1) {
          event[columns![index] ?? `field_${index + 1}`] = index < record.length ? typedValue(record[index]!) : null;
        }
        const found = findTime(event, timeField);
        // The time column is written back as ISO 8601, like every format's timestamps.
        if (found) event[found.field[0]!] = found.time;
        yield { event, time: found?.time };
      }
      yield* skipped.splice(0);
    },
  };
}
