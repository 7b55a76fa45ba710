/** An output. `write` resolves only when the output has the lines; the marker moves after it. */
export interface Sink {
  readonly description: string;
  write(lines: string[]): Promise<void>;
  /** Reopens files after logrotate moved them (SIGHUP); a no-op where there is nothing to reopen. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}
