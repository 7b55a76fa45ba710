import type { Readable } from 'node:stream';

export interface FormatContext {
  key: string;
  /** A longer line or record is skipped and counted without being held (source option `max_record_bytes`). */
  maxRecordBytes?: number | undefined;
}

/** One parsed record, or a line/record that could not be parsed (skipped and counted). */
export type ParsedItem =
  | {
      event: Record<string, unknown>;
      time?: string | undefined;
      /** Fields the format derives from the event (CloudTrail's category and outcome), set beside it in the envelope. */
      fields?: Record<string, string> | undefined;
      /**
       * The event's JSON text as the object holds it (one line), delivered as it is instead of
       * serialising `event` again; absent when the event is not its record unchanged.
       */
      json?: string | undefined;
    }
  | { bad: { line: number; reason: string } };

/** Turns an object's decoded bytes into events; knows nothing of S3. */
export interface Format {
  readonly name: string;
  parse(input: Readable, context: FormatContext): AsyncIterable<ParsedItem>;
  /** The identity of an event for `dedup` (formats whose records repeat across files have one). */
  dedupKey?(event: Record<string, unknown>): string | undefined;
}
