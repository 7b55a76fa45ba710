import type { OpenSourceResult, QueueStats, ResetRequest, SourceRow, SourceStateStore } from '../types.js';
import { UnknownSourceError } from '../../util/errors.js';
import type { Connection } from './connection.js';

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
  queue_messages: number | null;
  queue_in_flight: number | null;
  queue_oldest_sent_ms: number | null;
  queue_checked_ms: number | null;
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
    queue:
      record.queue_checked_ms === null
        ? null
        : { messages: record.queue_messages ?? 0, inFlight: record.queue_in_flight ?? 0, oldestSentMs: record.queue_oldest_sent_ms, checkedMs: record.queue_checked_ms },
  };
}

export class SqliteSourceStateStore implements SourceStateStore {
  constructor(private readonly conn: Connection) {}

  #record(sourceId: string): SourceRecord | undefined {
    return this.conn.statement<[string], SourceRecord>('SELECT * FROM sources WHERE source_id = ?').get(sourceId);
  }

  openSource(sourceId: string, scope: string, sinceMs: number | null, nowMs: number): OpenSourceResult {
    return this.conn.transaction((): OpenSourceResult => {
      const existing = this.#record(sourceId);
      if (existing && existing.scope === scope) return { state: toSourceRow(existing), created: false };
      if (existing) {
        this.conn.statement('DELETE FROM sources WHERE source_id = ?').run(sourceId);
        this.conn.statement('DELETE FROM dedup_keys WHERE source_id = ?').run(sourceId);
      }
      this.conn.statement('INSERT INTO sources (source_id, scope, since_ms, created_ms) VALUES (?, ?, ?, ?)').run(sourceId, scope, sinceMs, nowMs);
      const state = toSourceRow(this.#record(sourceId)!);
      return existing ? { state, previousScope: existing.scope, created: true } : { state, created: true };
    });
  }

  getSource(sourceId: string): SourceRow | undefined {
    return this.conn.run(() => {
      const record = this.#record(sourceId);
      return record ? toSourceRow(record) : undefined;
    });
  }

  listSources(): SourceRow[] {
    return this.conn.run(() => this.conn.statement<[], SourceRecord>('SELECT * FROM sources ORDER BY source_id').all().map(toSourceRow));
  }

  requestReset(sourceId: string, request: ResetRequest): void {
    this.conn.run(() => {
      const result = this.conn.statement('UPDATE sources SET reset_request = ? WHERE source_id = ?').run(JSON.stringify(request), sourceId);
      if (result.changes === 0) {
        throw new UnknownSourceError(`source ${sourceId} has no state yet: it has never been polled, so it starts as its config says`);
      }
    });
  }

  applyPendingReset(sourceId: string): ResetRequest | null {
    return this.conn.transaction((): ResetRequest | null => {
      const record = this.#record(sourceId);
      if (!record?.reset_request) return null;
      const request = JSON.parse(record.reset_request) as ResetRequest;
      // A reset asks for events again: the dedup window must not drop them as repeats.
      this.conn.statement('DELETE FROM dedup_keys WHERE source_id = ?').run(sourceId);
      const setSince = this.conn.statement('UPDATE sources SET since_ms = ? WHERE source_id = ?');
      if (request.mode === 'after') {
        const partitions = this.conn.statement<[string], { prefix: string }>('SELECT prefix FROM partitions WHERE source_id = ?').all(sourceId);
        for (const partition of partitions) {
          // The key names its partition by prefix; other partitions are left as they are.
          if (!request.key.startsWith(partition.prefix)) continue;
          this.conn.statement('DELETE FROM objects WHERE source_id = ? AND partition = ? AND key > ?').run(sourceId, partition.prefix, request.key);
          this.conn.statement('UPDATE partitions SET settled_key = ? WHERE source_id = ? AND prefix = ?').run(request.key, sourceId, partition.prefix);
        }
        setSince.run(null, sourceId);
      } else {
        this.conn.statement('DELETE FROM objects WHERE source_id = ?').run(sourceId);
        this.conn.statement("UPDATE partitions SET settled_key = '', newest_done_modified_ms = NULL WHERE source_id = ?").run(sourceId);
        setSince.run(request.mode === 'since' ? request.sinceMs : null, sourceId);
      }
      this.conn.statement('UPDATE sources SET reset_request = NULL WHERE source_id = ?').run(sourceId);
      return request;
    });
  }

  recordPollStart(sourceId: string, nowMs: number): void {
    this.conn.run(() => this.conn.statement('UPDATE sources SET last_poll_start_ms = ? WHERE source_id = ?').run(nowMs, sourceId));
  }

  recordPollEnd(sourceId: string, status: string, error: string | null, nowMs: number): void {
    this.conn.run(() =>
      this.conn.statement('UPDATE sources SET last_poll_end_ms = ?, last_poll_status = ?, last_poll_error = ? WHERE source_id = ?').run(nowMs, status, error, sourceId),
    );
  }

  recordQueueStats(sourceId: string, stats: QueueStats): void {
    this.conn.run(() =>
      this.conn
        .statement('UPDATE sources SET queue_messages = ?, queue_in_flight = ?, queue_oldest_sent_ms = ?, queue_checked_ms = ? WHERE source_id = ?')
        .run(stats.messages, stats.inFlight, stats.oldestSentMs, stats.checkedMs, sourceId),
    );
  }

  addRequests(counts: { sourceId: string; day: string; operation: string; count: number }[]): void {
    if (counts.length === 0) return;
    this.conn.run(() => {
      // Only for a source the state knows (the foreign key); the others have not polled yet.
      const add = this.conn.statement(
        `INSERT INTO requests (source_id, day, operation, count) SELECT @sourceId, @day, @operation, @count WHERE EXISTS (SELECT 1 FROM sources WHERE source_id = @sourceId)
         ON CONFLICT (source_id, day, operation) DO UPDATE SET count = count + excluded.count`,
      );
      for (const count of counts) add.run(count);
    });
  }

  requestsSince(sourceId: string, fromDay: string): Record<string, Record<string, number>> {
    const rows = this.conn.statement('SELECT day, operation, count FROM requests WHERE source_id = ? AND day >= ? ORDER BY day, operation').all(sourceId, fromDay) as { day: string; operation: string; count: number }[];
    const byDay: Record<string, Record<string, number>> = {};
    for (const row of rows) (byDay[row.day] ??= {})[row.operation] = row.count;
    return byDay;
  }

  recordNextPoll(sourceId: string, nextMs: number | null): void {
    this.conn.run(() => this.conn.statement('UPDATE sources SET next_poll_ms = ? WHERE source_id = ?').run(nextMs, sourceId));
  }
}
