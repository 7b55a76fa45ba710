import type { DiscoveredPartition, MarkerStore, PartitionRow } from '../types.js';
import type { Connection } from './connection.js';
import { dayOfKey } from '../../util/day-of-key.js';

interface PartitionRecord {
  prefix: string;
  settled_key: string;
  newest_done_modified_ms: number | null;
  unpadded_dates: number;
}

export class SqliteMarkerStore implements MarkerStore {
  constructor(private readonly conn: Connection) {}

  partitions(sourceId: string): PartitionRow[] {
    return this.conn.run(() =>
      this.conn
        .statement<[string], PartitionRecord>('SELECT prefix, settled_key, newest_done_modified_ms, unpadded_dates FROM partitions WHERE source_id = ? ORDER BY prefix')
        .all(sourceId)
        .map((row) => ({
          prefix: row.prefix,
          settledKey: row.settled_key,
          newestDoneModifiedMs: row.newest_done_modified_ms,
          unpaddedDates: row.unpadded_dates === 1,
        })),
    );
  }

  ensurePartition(sourceId: string, prefix: string): PartitionRow {
    return this.conn.run(() => {
      this.conn.statement('INSERT OR IGNORE INTO partitions (source_id, prefix) VALUES (?, ?)').run(sourceId, prefix);
      return this.partitions(sourceId).find((row) => row.prefix === prefix)!;
    });
  }

  recordDiscovery(sourceId: string, partitions: DiscoveredPartition[], nowMs: number): void {
    this.conn.transaction(() => {
      for (const { prefix, unpaddedDates } of partitions) {
        this.conn.statement('INSERT OR IGNORE INTO partitions (source_id, prefix) VALUES (?, ?)').run(sourceId, prefix);
        // Once seen unpadded, always ordered as dates (a padded-looking month may come before).
        if (unpaddedDates) this.conn.statement('UPDATE partitions SET unpadded_dates = 1 WHERE source_id = ? AND prefix = ?').run(sourceId, prefix);
      }
      this.conn.statement('UPDATE sources SET last_discovery_ms = ? WHERE source_id = ?').run(nowMs, sourceId);
    });
  }

  setSettledKey(sourceId: string, prefix: string, key: string, nowMs = Date.now()): void {
    this.conn.transaction(() => {
      const before = this.conn.statement<[string, string], { settled_key: string }>('SELECT settled_key FROM partitions WHERE source_id = ? AND prefix = ?').get(sourceId, prefix);
      this.conn.statement('UPDATE partitions SET settled_key = ? WHERE source_id = ? AND prefix = ?').run(key, sourceId, prefix);
      const day = dayOfKey(prefix, key);
      const previousDay = before ? dayOfKey(prefix, before.settled_key) : undefined;
      if (day !== undefined && (previousDay === undefined || day > previousDay)) {
        this.conn.statement('INSERT OR IGNORE INTO marker_days (source_id, partition, day, reached_ms) VALUES (?, ?, ?, ?)').run(sourceId, prefix, day, nowMs);
      }
    });
  }

  markerLeftDay(sourceId: string, prefix: string, day: string): number | null {
    // The marker had left `day` once it reached any later day; the first such time is the answer.
    return this.conn.run(
      () => this.conn.statement<[string, string, string], { ms: number | null }>('SELECT min(reached_ms) AS ms FROM marker_days WHERE source_id = ? AND partition = ? AND day > ?').get(sourceId, prefix, day)?.ms ?? null,
    );
  }
}
