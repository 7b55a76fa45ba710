import type { DedupStore } from '../types.js';
import type { Connection } from './connection.js';

export class SqliteDedupStore implements DedupStore {
  constructor(private readonly conn: Connection) {}

  seenDedupKeys(sourceId: string, keys: string[], sinceMs: number): Set<string> {
    if (keys.length === 0) return new Set();
    return this.conn.run(
      () =>
        new Set(
          this.conn
            // CROSS JOIN keeps the batch outermost: one primary-key probe per key, never a scan of the window.
            .statement<[string, string, number], string>(
              'SELECT k.dedup_key FROM json_each(?) AS j CROSS JOIN dedup_keys AS k ON k.source_id = ? AND k.dedup_key = j.value WHERE k.seen_ms >= ?',
            )
            .pluck()
            .all(JSON.stringify(keys), sourceId, sinceMs),
        ),
    );
  }

  pruneDedupKeys(sourceId: string, beforeMs: number): number {
    return this.conn.run(() => this.conn.statement('DELETE FROM dedup_keys WHERE source_id = ? AND seen_ms < ?').run(sourceId, beforeMs).changes);
  }
}

/** Remembers a batch's keys in one statement (json_each), in the transaction of its progress. */
export function rememberDedupKeys(conn: Connection, sourceId: string, keys: string[] | undefined, nowMs: number): void {
  if (!keys || keys.length === 0) return;
  conn
    .statement('INSERT INTO dedup_keys (source_id, dedup_key, seen_ms) SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO UPDATE SET seen_ms = excluded.seen_ms')
    .run(sourceId, nowMs, JSON.stringify(keys));
}
