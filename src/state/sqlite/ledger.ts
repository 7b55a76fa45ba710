import type { ObjectId, ObjectRef } from '../../aws/types.js';
import type { LedgerRow, LedgerStore, ObjectProgress, PartitionRow } from '../types.js';
import type { Connection } from './connection.js';
import { bumpCounters } from './counters.js';
import { rememberDedupKeys } from './dedup-keys.js';

const RETRY_BASE_MS = 60_000;
const RETRY_CAP_MS = 3_600_000;

interface ObjectRecord {
  bucket: string;
  key: string;
  partition: string;
  etag: string;
  size: number;
  last_modified_ms: number;
  status: LedgerRow['status'];
  events: number;
  bad_lines: number;
  duplicates: number;
  attempts: number;
  last_error: string | null;
  next_attempt_ms: number | null;
  sha256: string | null;
}

function toLedgerRow(record: ObjectRecord): LedgerRow {
  return {
    bucket: record.bucket,
    key: record.key,
    partition: record.partition,
    etag: record.etag,
    size: record.size,
    lastModifiedMs: record.last_modified_ms,
    status: record.status,
    events: record.events,
    badLines: record.bad_lines,
    duplicates: record.duplicates,
    attempts: record.attempts,
    lastError: record.last_error,
    nextAttemptMs: record.next_attempt_ms,
    sha256: record.sha256,
  };
}

export class SqliteLedgerStore implements LedgerStore {
  constructor(private readonly conn: Connection) {}

  #record(sourceId: string, object: ObjectId): ObjectRecord | undefined {
    return this.conn
      .statement<[string, string, string], ObjectRecord>('SELECT * FROM objects WHERE source_id = ? AND bucket = ? AND key = ?')
      .get(sourceId, object.bucket, object.key);
  }

  ledger(sourceId: string, bucket: string, keys: string[]): Map<string, LedgerRow> {
    return this.conn.run(() => {
      const found = new Map<string, LedgerRow>();
      for (const key of keys) {
        const record = this.#record(sourceId, { bucket, key });
        if (record) found.set(key, toLedgerRow(record));
      }
      return found;
    });
  }

  pendingObjects(sourceId: string, partition: string): LedgerRow[] {
    return this.conn.run(() =>
      this.conn
        .statement<[string, string], ObjectRecord>("SELECT * FROM objects WHERE source_id = ? AND partition = ? AND status = 'in_progress' ORDER BY key")
        .all(sourceId, partition)
        .map(toLedgerRow),
    );
  }

  failedObjects(sourceId: string): LedgerRow[] {
    return this.conn.run(() =>
      this.conn.statement<[string], ObjectRecord>("SELECT * FROM objects WHERE source_id = ? AND status = 'failed' ORDER BY bucket, key").all(sourceId).map(toLedgerRow),
    );
  }

  requeueFailed(sourceId: string, key?: string): number {
    return this.conn.run(() => {
      const result =
        key === undefined
          ? this.conn.statement("UPDATE objects SET status = 'in_progress', attempts = 0, next_attempt_ms = NULL WHERE source_id = ? AND status = 'failed'").run(sourceId)
          : this.conn
              .statement("UPDATE objects SET status = 'in_progress', attempts = 0, next_attempt_ms = NULL WHERE source_id = ? AND status = 'failed' AND key = ?")
              .run(sourceId, key);
      return result.changes;
    });
  }

  beginObject(sourceId: string, partition: string, object: ObjectRef, nowMs: number): LedgerRow {
    return this.conn.run(() => {
      this.conn
        .statement(
          `INSERT INTO objects (source_id, bucket, key, partition, etag, size, last_modified_ms, status, first_seen_ms, updated_ms)
           VALUES (@source, @bucket, @key, @partition, @etag, @size, @modified, 'in_progress', @now, @now)
           ON CONFLICT (source_id, bucket, key) DO UPDATE SET
             status = 'in_progress',
             -- A rewritten object starts over: what was delivered belongs to the old content.
             -- An announcement without an ETag (a notification) names no version: progress stays.
             events = CASE WHEN etag = excluded.etag OR excluded.etag = '' THEN events ELSE 0 END,
             bad_lines = CASE WHEN etag = excluded.etag OR excluded.etag = '' THEN bad_lines ELSE 0 END,
             duplicates = CASE WHEN etag = excluded.etag OR excluded.etag = '' THEN duplicates ELSE 0 END,
             etag = CASE WHEN excluded.etag = '' THEN etag ELSE excluded.etag END,
             size = excluded.size, last_modified_ms = excluded.last_modified_ms,
             updated_ms = excluded.updated_ms`,
        )
        .run({
          source: sourceId,
          bucket: object.bucket,
          key: object.key,
          partition,
          etag: object.etag,
          size: object.size,
          modified: object.lastModified.getTime(),
          now: nowMs,
        });
      return toLedgerRow(this.#record(sourceId, object)!);
    });
  }

  recordProgress(sourceId: string, object: ObjectId, progress: ObjectProgress, nowMs: number): void {
    this.conn.transaction(() => {
      const before = this.#record(sourceId, object);
      this.conn
        .statement('UPDATE objects SET events = ?, bad_lines = ?, duplicates = ?, updated_ms = ? WHERE source_id = ? AND bucket = ? AND key = ?')
        .run(progress.events, progress.badLines, progress.duplicates, nowMs, sourceId, object.bucket, object.key);
      rememberDedupKeys(this.conn, sourceId, progress.dedupKeys, nowMs);
      bumpCounters(this.conn, sourceId, progressDelta(before, progress));
    });
  }

  completeObject(sourceId: string, object: ObjectId, progress: ObjectProgress, nowMs: number): void {
    this.conn.transaction(() => {
      const before = this.#record(sourceId, object);
      this.conn
        .statement(
          "UPDATE objects SET status = 'done', events = ?, bad_lines = ?, duplicates = ?, last_error = NULL, next_attempt_ms = NULL, sha256 = ?, updated_ms = ? WHERE source_id = ? AND bucket = ? AND key = ?",
        )
        .run(progress.events, progress.badLines, progress.duplicates, progress.sha256 ?? null, nowMs, sourceId, object.bucket, object.key);
      rememberDedupKeys(this.conn, sourceId, progress.dedupKeys, nowMs);
      bumpCounters(this.conn, sourceId, { done: 1, ...progressDelta(before, progress) });
      if (before && before.partition !== '') {
        this.conn
          .statement('UPDATE partitions SET newest_done_modified_ms = max(coalesce(newest_done_modified_ms, 0), ?) WHERE source_id = ? AND prefix = ?')
          .run(before.last_modified_ms, sourceId, before.partition);
      } else if (before) {
        // An object that came by notification has no partition of its own; the partitions its
        // reconcile listing found (accounts, regions) are the ones whose prefix its key begins with.
        this.conn
          .statement("UPDATE partitions SET newest_done_modified_ms = max(coalesce(newest_done_modified_ms, 0), ?) WHERE source_id = ? AND prefix <> '' AND substr(?, 1, length(prefix)) = prefix")
          .run(before.last_modified_ms, sourceId, object.key);
      }
    });
  }

  failObjectAttempt(sourceId: string, object: ObjectId, error: string, maxAttempts: number, nowMs: number): LedgerRow {
    return this.conn.transaction(() => {
      this.conn
        .statement(
          `UPDATE objects SET attempts = attempts + 1, last_error = @error, updated_ms = @now,
             status = CASE WHEN attempts + 1 >= @max THEN 'failed' ELSE 'in_progress' END,
             next_attempt_ms = @now + min(@cap, @base * (1 << min(attempts, 16)))
           WHERE source_id = @source AND bucket = @bucket AND key = @key`,
        )
        .run({ source: sourceId, bucket: object.bucket, key: object.key, error, max: maxAttempts, now: nowMs, base: RETRY_BASE_MS, cap: RETRY_CAP_MS });
      const row = toLedgerRow(this.#record(sourceId, object)!);
      if (row.status === 'failed') bumpCounters(this.conn, sourceId, { failed: 1 });
      return row;
    });
  }

  noteTransientError(sourceId: string, object: ObjectId, error: string, nowMs: number): void {
    this.conn.run(() =>
      this.conn.statement('UPDATE objects SET last_error = ?, updated_ms = ? WHERE source_id = ? AND bucket = ? AND key = ?').run(error, nowMs, sourceId, object.bucket, object.key),
    );
  }

  skipObjects(sourceId: string, partition: string, objects: ObjectRef[], reason: string, nowMs: number): void {
    if (objects.length === 0) return;
    this.conn.transaction(() => {
      let added = 0;
      for (const object of objects) {
        const result = this.conn
          .statement(
            `INSERT OR IGNORE INTO objects (source_id, bucket, key, partition, etag, size, last_modified_ms, status, last_error, first_seen_ms, updated_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'skipped', ?, ?, ?)`,
          )
          .run(sourceId, object.bucket, object.key, partition, object.etag, object.size, object.lastModified.getTime(), reason, nowMs, nowMs);
        added += result.changes;
      }
      bumpCounters(this.conn, sourceId, { skipped: added });
    });
  }

  forgetObject(sourceId: string, object: ObjectId): void {
    this.conn.transaction(() => {
      const row = this.#record(sourceId, object);
      if (!row) return;
      this.conn.statement('DELETE FROM objects WHERE source_id = ? AND bucket = ? AND key = ?').run(sourceId, object.bucket, object.key);
      if (row.status === 'failed') bumpCounters(this.conn, sourceId, { failed: -1 });
    });
  }

  pruneHistory(sourceId: string, beforeMs: number, belowMarker: (partition: PartitionRow, key: string) => boolean, notifiedBeforeMs?: number): number {
    return this.conn.transaction(() => {
      let pruned = this.conn
        .statement(
          `DELETE FROM objects WHERE source_id = @source AND status IN ('done', 'skipped') AND updated_ms < @before
             AND key <= (SELECT settled_key FROM partitions p WHERE p.source_id = objects.source_id AND p.prefix = objects.partition
                         AND p.unpadded_dates = 0)`,
        )
        .run({ source: sourceId, before: beforeMs }).changes;
      const unpadded = this.conn
        .statement<[string], PartitionRecordLite>('SELECT prefix, settled_key, newest_done_modified_ms, unpadded_dates FROM partitions WHERE source_id = ? AND unpadded_dates = 1')
        .all(sourceId);
      for (const record of unpadded) {
        const partition: PartitionRow = { prefix: record.prefix, settledKey: record.settled_key, newestDoneModifiedMs: record.newest_done_modified_ms, unpaddedDates: true };
        const candidates = this.conn
          .statement<[string, string, number], { bucket: string; key: string }>(
            "SELECT bucket, key FROM objects WHERE source_id = ? AND partition = ? AND status IN ('done', 'skipped') AND updated_ms < ?",
          )
          .all(sourceId, partition.prefix, beforeMs);
        for (const { bucket, key } of candidates) {
          if (belowMarker(partition, key)) pruned += this.conn.statement('DELETE FROM objects WHERE source_id = ? AND bucket = ? AND key = ?').run(sourceId, bucket, key).changes;
        }
      }
      if (notifiedBeforeMs !== undefined) {
        // Objects heard of by notification have no marker: a redelivered message can only come
        // within the queue's retention, so their rows are kept that long and then go.
        pruned += this.conn
          .statement("DELETE FROM objects WHERE source_id = ? AND partition = '' AND status IN ('done', 'skipped') AND updated_ms < ?")
          .run(sourceId, notifiedBeforeMs).changes;
      }
      return pruned;
    });
  }
}

interface PartitionRecordLite {
  prefix: string;
  settled_key: string;
  newest_done_modified_ms: number | null;
  unpadded_dates: number;
}

function progressDelta(before: ObjectRecord | undefined, progress: ObjectProgress): { events: number; bad: number; duplicates: number } {
  return {
    events: progress.events - (before?.events ?? 0),
    bad: progress.badLines - (before?.bad_lines ?? 0),
    duplicates: progress.duplicates - (before?.duplicates ?? 0),
  };
}
