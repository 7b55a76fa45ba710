/**
 * The only importer of better-sqlite3. WAL mode so that the CLI can read (and request resets)
 * while the service writes; every change is one transaction; the file is created 0600.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ObjectInfo } from '../aws/types.js';
import { MIGRATIONS } from './schema.js';
import type { DiscoveredPartition, LedgerRow, ObjectProgress, OpenSourceResult, PartitionRow, ResetRequest, SourceRow, Store } from './types.js';
import { S3PullError } from '../util/errors.js';
import { ensureDirSync } from '../util/fs.js';
import { StateError, stateError } from './state-errors.js';

const RETRY_BASE_MS = 60_000;
const RETRY_CAP_MS = 3_600_000;

interface ObjectRecord {
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
}

interface SourceRecord {
  source_id: string;
  scope: string;
  since_ms: number | null;
  created_ms: number;
  reset_request: string | null;
  last_poll_start_ms: number | null;
  last_poll_end_ms: number | null;
  last_poll_status: string | null;
  last_poll_error: string | null;
  next_poll_ms: number | null;
  last_discovery_ms: number | null;
  objects_done: number;
  objects_failed: number;
  objects_skipped: number;
  events: number;
  bad_lines: number;
  duplicates: number;
}

function toLedgerRow(record: ObjectRecord): LedgerRow {
  return {
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
  };
}

function toSourceRow(record: SourceRecord): SourceRow {
  return {
    sourceId: record.source_id,
    scope: record.scope,
    sinceMs: record.since_ms,
    createdMs: record.created_ms,
    resetRequest: record.reset_request ? (JSON.parse(record.reset_request) as ResetRequest) : null,
    lastPollStartMs: record.last_poll_start_ms,
    lastPollEndMs: record.last_poll_end_ms,
    lastPollStatus: record.last_poll_status,
    lastPollError: record.last_poll_error,
    nextPollMs: record.next_poll_ms,
    lastDiscoveryMs: record.last_discovery_ms,
    objectsDone: record.objects_done,
    objectsFailed: record.objects_failed,
    objectsSkipped: record.objects_skipped,
    events: record.events,
    badLines: record.bad_lines,
    duplicates: record.duplicates,
  };
}

export interface StoreOptions {
  readonly?: boolean;
  /** Told when the state file had to be written back (it was deleted while s3pull ran). */
  onRestored?: (file: string) => void;
}

export function openSqliteStore(file: string, options: StoreOptions = {}): Store {
  try {
    return new SqliteStore(openDatabase(file, options.readonly ?? false), file, options);
  } catch (error) {
    throw stateError(file, error);
  }
}

function openDatabase(file: string, readonly: boolean): Database.Database {
  if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
  if (!readonly) {
    ensureDirSync(path.dirname(file));
    if (!existsSync(file)) {
      // Created by us with 0600 before SQLite opens it: the ledger names buckets and keys.
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    }
  } else if (!existsSync(file)) {
    throw new S3PullError('STATE_MISSING', `state file ${file} does not exist yet (no poll has run)`);
  }
  const db = new Database(file, { readonly, timeout: 10_000 });
  try {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
    } else {
      // A read-only open reads nothing until asked; this makes a damaged or foreign file say so now.
      if (db.pragma('user_version', { simple: true }) === 0) {
        throw new StateError('STATE_NOT_S3PULL', `state file ${file}: it holds no s3pull state (empty, or another program's database); check the state setting`);
      }
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new S3PullError('STATE_TOO_NEW', `state file ${file} has schema version ${version}, newer than this s3pull knows (${MIGRATIONS.length}); upgrade s3pull`);
  }
  for (let next = version; next < MIGRATIONS.length; next += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

/** How often the state file's identity is checked (a stat), at most: the check sits on every call. */
const FILE_CHECK_MS = 1000;

function prepareStatements(db: Database.Database) {
  return {
    getSource: db.prepare<[string], SourceRecord>('SELECT * FROM sources WHERE source_id = ?'),
    listSources: db.prepare<[], SourceRecord>('SELECT * FROM sources ORDER BY source_id'),
    insertSource: db.prepare('INSERT INTO sources (source_id, scope, since_ms, created_ms) VALUES (?, ?, ?, ?)'),
    deleteSource: db.prepare('DELETE FROM sources WHERE source_id = ?'),
    partitions: db.prepare<[string], { prefix: string; settled_key: string; newest_done_modified_ms: number | null; unpadded_dates: number }>(
      'SELECT prefix, settled_key, newest_done_modified_ms, unpadded_dates FROM partitions WHERE source_id = ? ORDER BY prefix',
    ),
    markUnpadded: db.prepare('UPDATE partitions SET unpadded_dates = 1 WHERE source_id = ? AND prefix = ?'),
    insertPartition: db.prepare('INSERT OR IGNORE INTO partitions (source_id, prefix) VALUES (?, ?)'),
    setSettled: db.prepare('UPDATE partitions SET settled_key = ? WHERE source_id = ? AND prefix = ?'),
    getObject: db.prepare<[string, string], ObjectRecord>('SELECT * FROM objects WHERE source_id = ? AND key = ?'),
    pending: db.prepare<[string, string], ObjectRecord>(
      "SELECT * FROM objects WHERE source_id = ? AND partition = ? AND status = 'in_progress' ORDER BY key",
    ),
    failed: db.prepare<[string], ObjectRecord>("SELECT * FROM objects WHERE source_id = ? AND status = 'failed' ORDER BY key"),
    upsertBegin: db.prepare(
      `INSERT INTO objects (source_id, key, partition, etag, size, last_modified_ms, status, first_seen_ms, updated_ms)
       VALUES (@source, @key, @partition, @etag, @size, @modified, 'in_progress', @now, @now)
       ON CONFLICT (source_id, key) DO UPDATE SET
         status = 'in_progress',
         -- A rewritten object starts over: what was delivered belongs to the old content.
         events = CASE WHEN etag = excluded.etag THEN events ELSE 0 END,
         bad_lines = CASE WHEN etag = excluded.etag THEN bad_lines ELSE 0 END,
         duplicates = CASE WHEN etag = excluded.etag THEN duplicates ELSE 0 END,
         etag = excluded.etag, size = excluded.size, last_modified_ms = excluded.last_modified_ms,
         updated_ms = excluded.updated_ms`,
    ),
    progress: db.prepare('UPDATE objects SET events = ?, bad_lines = ?, duplicates = ?, updated_ms = ? WHERE source_id = ? AND key = ?'),
    complete: db.prepare(
      "UPDATE objects SET status = 'done', events = ?, bad_lines = ?, duplicates = ?, last_error = NULL, next_attempt_ms = NULL, updated_ms = ? WHERE source_id = ? AND key = ?",
    ),
    failAttempt: db.prepare(
      `UPDATE objects SET attempts = attempts + 1, last_error = @error, updated_ms = @now,
         status = CASE WHEN attempts + 1 >= @max THEN 'failed' ELSE 'in_progress' END,
         next_attempt_ms = @now + min(@cap, @base * (1 << min(attempts, 16)))
       WHERE source_id = @source AND key = @key`,
    ),
    requeueAll: db.prepare(
      "UPDATE objects SET status = 'in_progress', attempts = 0, next_attempt_ms = NULL WHERE source_id = ? AND status = 'failed'",
    ),
    requeueOne: db.prepare(
      "UPDATE objects SET status = 'in_progress', attempts = 0, next_attempt_ms = NULL WHERE source_id = ? AND status = 'failed' AND key = ?",
    ),
    transient: db.prepare('UPDATE objects SET last_error = ?, updated_ms = ? WHERE source_id = ? AND key = ?'),
    insertSkipped: db.prepare(
      `INSERT OR IGNORE INTO objects (source_id, key, partition, etag, size, last_modified_ms, status, last_error, first_seen_ms, updated_ms)
       VALUES (?, ?, ?, ?, ?, ?, 'skipped', ?, ?, ?)`,
    ),
    bump: db.prepare(
      `UPDATE sources SET objects_done = objects_done + @done, objects_failed = objects_failed + @failed,
         objects_skipped = objects_skipped + @skipped, events = events + @events, bad_lines = bad_lines + @bad,
         duplicates = duplicates + @duplicates
       WHERE source_id = @source`,
    ),
    // A batch's keys in one statement each way (json_each), not one statement per event.
    rememberKeys: db.prepare(
      'INSERT INTO dedup_keys (source_id, dedup_key, seen_ms) SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO UPDATE SET seen_ms = excluded.seen_ms',
    ),
    seenKeys: db
      // CROSS JOIN keeps the batch outermost: one primary-key probe per key, never a scan of the window.
      .prepare<[string, string, number], string>(
        'SELECT k.dedup_key FROM json_each(?) AS j CROSS JOIN dedup_keys AS k ON k.source_id = ? AND k.dedup_key = j.value WHERE k.seen_ms >= ?',
      )
      .pluck(),
    pruneKeys: db.prepare('DELETE FROM dedup_keys WHERE source_id = ? AND seen_ms < ?'),
    clearKeys: db.prepare('DELETE FROM dedup_keys WHERE source_id = ?'),
    newestDone: db.prepare(
      'UPDATE partitions SET newest_done_modified_ms = max(coalesce(newest_done_modified_ms, 0), ?) WHERE source_id = ? AND prefix = ?',
    ),
    setReset: db.prepare('UPDATE sources SET reset_request = ? WHERE source_id = ?'),
    clearObjects: db.prepare('DELETE FROM objects WHERE source_id = ?'),
    clearObjectsAfter: db.prepare('DELETE FROM objects WHERE source_id = ? AND partition = ? AND key > ?'),
    resetPartitions: db.prepare("UPDATE partitions SET settled_key = '', newest_done_modified_ms = NULL WHERE source_id = ?"),
    setSince: db.prepare('UPDATE sources SET since_ms = ? WHERE source_id = ?'),
    setSettledExact: db.prepare('UPDATE partitions SET settled_key = ? WHERE source_id = ? AND prefix = ?'),
    takeLease: db.prepare(
      `UPDATE sources SET lease_owner = @owner, lease_until_ms = @until
       WHERE source_id = @source AND (lease_owner IS NULL OR lease_owner = @owner OR lease_until_ms < @now)`,
    ),
    readLease: db.prepare<[string], { lease_owner: string | null; lease_until_ms: number | null }>(
      'SELECT lease_owner, lease_until_ms FROM sources WHERE source_id = ?',
    ),
    releaseLease: db.prepare('UPDATE sources SET lease_owner = NULL, lease_until_ms = NULL WHERE source_id = ? AND lease_owner = ?'),
    pollStart: db.prepare('UPDATE sources SET last_poll_start_ms = ? WHERE source_id = ?'),
    pollEnd: db.prepare('UPDATE sources SET last_poll_end_ms = ?, last_poll_status = ?, last_poll_error = ? WHERE source_id = ?'),
    nextPoll: db.prepare('UPDATE sources SET next_poll_ms = ? WHERE source_id = ?'),
    prune: db.prepare(
      `DELETE FROM objects WHERE source_id = @source AND status IN ('done', 'skipped') AND updated_ms < @before
         AND key <= (SELECT settled_key FROM partitions p WHERE p.source_id = objects.source_id AND p.prefix = objects.partition
                     AND p.unpadded_dates = 0)`,
    ),
    pruneCandidates: db.prepare<[string, string, number], { key: string }>(
      "SELECT key FROM objects WHERE source_id = ? AND partition = ? AND status IN ('done', 'skipped') AND updated_ms < ?",
    ),
    deleteObject: db.prepare('DELETE FROM objects WHERE source_id = ? AND key = ?'),
    discovered: db.prepare('UPDATE sources SET last_discovery_ms = ? WHERE source_id = ?'),
  };
}

class SqliteStore implements Store {
  private statements: ReturnType<typeof prepareStatements>;
  private identity: { dev: number; ino: number } | undefined;
  private checkedMs = 0;

  constructor(
    private db: Database.Database,
    private readonly file: string,
    private readonly options: StoreOptions,
  ) {
    this.statements = prepareStatements(db);
    this.identity = identityOf(file);
    guardMethods(this, () => this.checkFile(), (error) => stateError(file, error));
  }

  /**
   * The state file must still be the one that was opened. Deleted (an operator cleaning up): it
   * is written back from the open connection, which still holds everything, so a restart does
   * not deliver it all again. Replaced by another file: neither is used silently; polls stop.
   */
  private checkFile(): void {
    if (this.options.readonly) return;
    const now = Date.now();
    if (now - this.checkedMs < FILE_CHECK_MS) return;
    this.checkedMs = now;
    const found = identityOf(this.file);
    if (found && this.identity && found.dev === this.identity.dev && found.ino === this.identity.ino) return;
    if (found) {
      throw new StateError(
        'STATE_REPLACED',
        `state file ${this.file} was replaced by another file while s3pull ran; s3pull stops rather than mix the two: restart it to use the new file`,
      );
    }
    const temporary = `${this.file}.restore-${process.pid}`;
    rmSync(temporary, { force: true });
    this.db.exec(`VACUUM INTO '${temporary.replaceAll("'", "''")}'`);
    chmodSync(temporary, 0o600);
    // Closed before the copy takes the name: closing removes the old -wal/-shm files at that path,
    // which must never be read as the new file's.
    this.db.close();
    renameSync(temporary, this.file);
    this.db = openDatabase(this.file, false);
    this.statements = prepareStatements(this.db);
    this.identity = identityOf(this.file);
    this.options.onRestored?.(this.file);
  }

  openSource(sourceId: string, scope: string, sinceMs: number | null, nowMs: number): OpenSourceResult {
    return this.db.transaction((): OpenSourceResult => {
      const existing = this.statements.getSource.get(sourceId);
      if (existing && existing.scope === scope) return { state: toSourceRow(existing), created: false };
      if (existing) {
        this.statements.deleteSource.run(sourceId);
        this.statements.clearKeys.run(sourceId);
      }
      this.statements.insertSource.run(sourceId, scope, sinceMs, nowMs);
      const state = toSourceRow(this.statements.getSource.get(sourceId)!);
      return existing ? { state, previousScope: existing.scope, created: true } : { state, created: true };
    })();
  }

  getSource(sourceId: string): SourceRow | undefined {
    const record = this.statements.getSource.get(sourceId);
    return record ? toSourceRow(record) : undefined;
  }

  listSources(): SourceRow[] {
    return this.statements.listSources.all().map(toSourceRow);
  }

  partitions(sourceId: string): PartitionRow[] {
    return this.statements.partitions.all(sourceId).map((row) => ({
      prefix: row.prefix,
      settledKey: row.settled_key,
      newestDoneModifiedMs: row.newest_done_modified_ms,
      unpaddedDates: row.unpadded_dates === 1,
    }));
  }

  ensurePartition(sourceId: string, prefix: string): PartitionRow {
    this.statements.insertPartition.run(sourceId, prefix);
    return this.partitions(sourceId).find((row) => row.prefix === prefix)!;
  }

  recordDiscovery(sourceId: string, partitions: DiscoveredPartition[], nowMs: number): void {
    this.db.transaction(() => {
      for (const { prefix, unpaddedDates } of partitions) {
        this.statements.insertPartition.run(sourceId, prefix);
        // Once seen unpadded, always ordered as dates (a padded-looking month may come before).
        if (unpaddedDates) this.statements.markUnpadded.run(sourceId, prefix);
      }
      this.statements.discovered.run(nowMs, sourceId);
    })();
  }

  pruneHistory(sourceId: string, beforeMs: number, belowMarker: (partition: PartitionRow, key: string) => boolean): number {
    return this.db.transaction(() => {
      let pruned = this.statements.prune.run({ source: sourceId, before: beforeMs }).changes;
      for (const partition of this.partitions(sourceId).filter((row) => row.unpaddedDates)) {
        for (const { key } of this.statements.pruneCandidates.all(sourceId, partition.prefix, beforeMs)) {
          if (belowMarker(partition, key)) pruned += this.statements.deleteObject.run(sourceId, key).changes;
        }
      }
      return pruned;
    })();
  }

  setSettledKey(sourceId: string, prefix: string, key: string): void {
    this.statements.setSettled.run(key, sourceId, prefix);
  }

  ledger(sourceId: string, keys: string[]): Map<string, LedgerRow> {
    const found = new Map<string, LedgerRow>();
    for (const key of keys) {
      const record = this.statements.getObject.get(sourceId, key);
      if (record) found.set(key, toLedgerRow(record));
    }
    return found;
  }

  pendingObjects(sourceId: string, partition: string): LedgerRow[] {
    return this.statements.pending.all(sourceId, partition).map(toLedgerRow);
  }

  failedObjects(sourceId: string): LedgerRow[] {
    return this.statements.failed.all(sourceId).map(toLedgerRow);
  }

  requeueFailed(sourceId: string, key?: string): number {
    const result = key === undefined ? this.statements.requeueAll.run(sourceId) : this.statements.requeueOne.run(sourceId, key);
    return result.changes;
  }

  beginObject(sourceId: string, partition: string, object: ObjectInfo, nowMs: number): LedgerRow {
    this.statements.upsertBegin.run({
      source: sourceId,
      key: object.key,
      partition,
      etag: object.etag,
      size: object.size,
      modified: object.lastModified.getTime(),
      now: nowMs,
    });
    return toLedgerRow(this.statements.getObject.get(sourceId, object.key)!);
  }

  recordProgress(sourceId: string, key: string, progress: ObjectProgress, nowMs: number): void {
    this.db.transaction(() => {
      const before = this.statements.getObject.get(sourceId, key);
      this.statements.progress.run(progress.events, progress.badLines, progress.duplicates, nowMs, sourceId, key);
      this.rememberKeys(sourceId, progress.dedupKeys, nowMs);
      this.bumpCounters(sourceId, progressDelta(before, progress));
    })();
  }

  completeObject(sourceId: string, key: string, progress: ObjectProgress, nowMs: number): void {
    this.db.transaction(() => {
      const before = this.statements.getObject.get(sourceId, key);
      this.statements.complete.run(progress.events, progress.badLines, progress.duplicates, nowMs, sourceId, key);
      this.rememberKeys(sourceId, progress.dedupKeys, nowMs);
      this.bumpCounters(sourceId, { done: 1, ...progressDelta(before, progress) });
      if (before) this.statements.newestDone.run(before.last_modified_ms, sourceId, before.partition);
    })();
  }

  seenDedupKeys(sourceId: string, keys: string[], sinceMs: number): Set<string> {
    if (keys.length === 0) return new Set();
    return new Set(this.statements.seenKeys.all(JSON.stringify(keys), sourceId, sinceMs));
  }

  pruneDedupKeys(sourceId: string, beforeMs: number): number {
    return this.statements.pruneKeys.run(sourceId, beforeMs).changes;
  }

  private rememberKeys(sourceId: string, keys: string[] | undefined, nowMs: number): void {
    if (keys && keys.length > 0) this.statements.rememberKeys.run(sourceId, nowMs, JSON.stringify(keys));
  }

  failObjectAttempt(sourceId: string, key: string, error: string, maxAttempts: number, nowMs: number): LedgerRow {
    return this.db.transaction(() => {
      this.statements.failAttempt.run({ source: sourceId, key, error, max: maxAttempts, now: nowMs, base: RETRY_BASE_MS, cap: RETRY_CAP_MS });
      const row = toLedgerRow(this.statements.getObject.get(sourceId, key)!);
      if (row.status === 'failed') this.bumpCounters(sourceId, { failed: 1 });
      return row;
    })();
  }

  noteTransientError(sourceId: string, key: string, error: string, nowMs: number): void {
    this.statements.transient.run(error, nowMs, sourceId, key);
  }

  skipObjects(sourceId: string, partition: string, objects: ObjectInfo[], reason: string, nowMs: number): void {
    if (objects.length === 0) return;
    this.db.transaction(() => {
      let added = 0;
      for (const object of objects) {
        const result = this.statements.insertSkipped.run(
          sourceId, object.key, partition, object.etag, object.size, object.lastModified.getTime(), reason, nowMs, nowMs,
        );
        added += result.changes;
      }
      this.bumpCounters(sourceId, { skipped: added });
    })();
  }

  requestReset(sourceId: string, request: ResetRequest): void {
    const result = this.statements.setReset.run(JSON.stringify(request), sourceId);
    if (result.changes === 0) {
      throw new S3PullError('SOURCE_UNKNOWN', `source ${sourceId} has no state yet: it has never been polled, so it starts as its config says`);
    }
  }

  applyPendingReset(sourceId: string): ResetRequest | null {
    return this.db.transaction((): ResetRequest | null => {
      const record = this.statements.getSource.get(sourceId);
      if (!record?.reset_request) return null;
      const request = JSON.parse(record.reset_request) as ResetRequest;
      // A reset asks for events again: the dedup window must not drop them as repeats.
      this.statements.clearKeys.run(sourceId);
      if (request.mode === 'after') {
        for (const partition of this.partitions(sourceId)) {
          // The key names its partition by prefix; other partitions are left as they are.
          if (!request.key.startsWith(partition.prefix)) continue;
          this.statements.clearObjectsAfter.run(sourceId, partition.prefix, request.key);
          this.statements.setSettledExact.run(request.key, sourceId, partition.prefix);
        }
        this.statements.setSince.run(null, sourceId);
      } else {
        this.statements.clearObjects.run(sourceId);
        this.statements.resetPartitions.run(sourceId);
        this.statements.setSince.run(request.mode === 'since' ? request.sinceMs : null, sourceId);
      }
      this.statements.setReset.run(null, sourceId);
      return request;
    })();
  }

  acquireLease(sourceId: string, owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number } {
    const result = this.statements.takeLease.run({ source: sourceId, owner, until: untilMs, now: nowMs });
    if (result.changes > 0) return { held: true };
    const lease = this.statements.readLease.get(sourceId);
    return { held: false, owner: lease?.lease_owner ?? 'unknown', untilMs: lease?.lease_until_ms ?? 0 };
  }

  releaseLease(sourceId: string, owner: string): void {
    this.statements.releaseLease.run(sourceId, owner);
  }

  recordPollStart(sourceId: string, nowMs: number): void {
    this.statements.pollStart.run(nowMs, sourceId);
  }

  recordPollEnd(sourceId: string, status: string, error: string | null, nowMs: number): void {
    this.statements.pollEnd.run(nowMs, status, error, sourceId);
  }

  recordNextPoll(sourceId: string, nextMs: number | null): void {
    this.statements.nextPoll.run(nextMs, sourceId);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private bumpCounters(sourceId: string, delta: { done?: number; failed?: number; skipped?: number; events?: number; bad?: number; duplicates?: number }): void {
    this.statements.bump.run({
      duplicates: delta.duplicates ?? 0,
      source: sourceId,
      done: delta.done ?? 0,
      failed: delta.failed ?? 0,
      skipped: delta.skipped ?? 0,
      events: delta.events ?? 0,
      bad: delta.bad ?? 0,
    });
  }
}

function progressDelta(before: ObjectRecord | undefined, progress: ObjectProgress): { events: number; bad: number; duplicates: number } {
  return {
    events: progress.events - (before?.events ?? 0),
    bad: progress.badLines - (before?.bad_lines ?? 0),
    duplicates: progress.duplicates - (before?.duplicates ?? 0),
  };
}

function identityOf(file: string): { dev: number; ino: number } | undefined {
  try {
    const { dev, ino } = statSync(file);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

/** Every public method checks the file first and turns SQLite's errors into StateErrors. */
function guardMethods(store: SqliteStore, check: () => void, translate: (error: unknown) => unknown): void {
  const target = store as unknown as Record<string, unknown>;
  // Only the outermost call checks: a method calling another must not restore mid-transaction.
  let depth = 0;
  for (const name of Object.getOwnPropertyNames(SqliteStore.prototype)) {
    const method = target[name];
    if (name === 'constructor' || name === 'checkFile' || typeof method !== 'function') continue;
    target[name] = (...args: unknown[]) => {
      depth += 1;
      try {
        if (depth === 1 && name !== 'close') check();
        return (method as (...a: unknown[]) => unknown).apply(store, args);
      } catch (error) {
        throw translate(error);
      } finally {
        depth -= 1;
      }
    };
  }
}
