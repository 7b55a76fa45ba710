import type { Connection } from './connection.js';

export interface CounterDelta {
  done?: number;
  failed?: number;
  skipped?: number;
  events?: number;
  bad?: number;
  duplicates?: number;
}

/** A source's running totals, moved in the same transaction as the ledger change they count. */
export function bumpCounters(conn: Connection, sourceId: string, delta: CounterDelta): void {
  conn
    .statement(
      `UPDATE sources SET objects_done = objects_done + @done, objects_failed = objects_failed + @failed,
         objects_skipped = objects_skipped + @skipped, events = events + @events, bad_lines = bad_lines + @bad,
         duplicates = duplicates + @duplicates
       WHERE source_id = @source`,
    )
    .run({
      source: sourceId,
      done: delta.done ?? 0,
      failed: delta.failed ?? 0,
      skipped: delta.skipped ?? 0,
      events: delta.events ?? 0,
      bad: delta.bad ?? 0,
      duplicates: delta.duplicates ?? 0,
    });
}
