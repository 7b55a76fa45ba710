/**
 * One delivered event: the envelope line (NDJSON) and the few envelope fields that outputs put in
 * their own headers (syslog HOSTNAME and TIMESTAMP, Splunk HEC `time`/`source`, Elasticsearch `_id`),
 * so that no output has to parse the line again.
 */
export interface OutputRecord {
  /** The deterministic event id (same record of the same object version → same id). */
  id: string;
  /** ISO 8601: the event's own time, or the object's LastModified. */
  time: string;
  /** The event's source name: the source id, or what `identifier_pattern` made of the key. */
  source: string;
  /** The s3pull source id the event was pulled by. */
  sourceId: string;
  format: string;
  line: string;
  /** Where the event's own JSON begins in `line` (it ends one character before the end). */
  eventOffset: number;
}

/** The event as the format read it (the record as AWS wrote it), without the envelope. */
export function eventJson(record: OutputRecord): string {
  return record.line.slice(record.eventOffset, -1);
}

/**
 * An output. `write` resolves only when the output has the records (the file was written, the
 * receiver answered); the marker moves after it. It rejects with a SinkError when it gives up,
 * which pauses the source with its marker kept.
 */
export interface Sink {
  readonly description: string;
  write(records: OutputRecord[], signal?: AbortSignal): Promise<void>;
  /**
   * Checks that the output would take events, without sending any (for `s3pull test`): resolves
   * with what was found, or rejects naming what is wrong. `warn` when nothing can be checked.
   */
  probe?(signal: AbortSignal): Promise<{ ok: true | 'warn'; text: string }>;
  /** Reopens files after logrotate moved them (SIGHUP); a no-op where there is nothing to reopen. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}
