import type { ObjectId, ObjectRef } from '../../aws/types.js';
import type { JobObjectRow, JobRow, JobSpec, JobStore, ObjectProgress } from '../types.js';
import type { Connection } from './connection.js';
import { acquireRowLease, releaseRowLease } from './leases.js';

interface JobRecord {
  job_id: number;
  source_id: string;
  kind: JobRow['kind'];
  from_day: string;
  to_day: string;
  output: string | null;
  started_ms: number;
  updated_ms: number;
  finished_ms: number | null;
  objects_done: number;
  objects_failed: number;
  events: number;
}

interface JobObjectRecord {
  key: string;
  etag: string;
  status: JobObjectRow['status'];
  events: number;
  bad_lines: number;
  duplicates: number;
  attempts: number;
  last_error: string | null;
}

function toJobRow(record: JobRecord): JobRow {
  return {
    jobId: record.job_id,
    sourceId: record.source_id,
    kind: record.kind,
    fromDay: record.from_day,
    toDay: record.to_day,
    output: record.output,
    startedMs: record.started_ms,
    updatedMs: record.updated_ms,
    finishedMs: record.finished_ms,
    objectsDone: record.objects_done,
    objectsFailed: record.objects_failed,
    events: record.events,
  };
}

function toJobObjectRow(record: JobObjectRecord): JobObjectRow {
  return {
    key: record.key,
    etag: record.etag,
    status: record.status,
    events: record.events,
    badLines: record.bad_lines,
    duplicates: record.duplicates,
    attempts: record.attempts,
    lastError: record.last_error,
  };
}

export class SqliteJobStore implements JobStore {
  constructor(private readonly conn: Connection) {}

  openJob(spec: JobSpec, nowMs: number): { job: JobRow; resumed: boolean } {
    return this.conn.transaction(() => {
      const unfinished = this.conn
        .statement<[string, string, string, string, string], JobRecord>(
          `SELECT * FROM jobs WHERE source_id = ? AND kind = ? AND from_day = ? AND to_day = ? AND coalesce(output, '') = ? AND finished_ms IS NULL ORDER BY job_id DESC LIMIT 1`,
        )
        .get(spec.sourceId, spec.kind, spec.fromDay, spec.toDay, spec.output ?? '');
      if (unfinished) return { job: toJobRow(unfinished), resumed: true };
      const inserted = this.conn
        .statement('INSERT INTO jobs (source_id, kind, from_day, to_day, output, started_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(spec.sourceId, spec.kind, spec.fromDay, spec.toDay, spec.output, nowMs, nowMs);
      return { job: this.getJob(Number(inserted.lastInsertRowid))!, resumed: false };
    });
  }

  getJob(jobId: number): JobRow | undefined {
    return this.conn.run(() => {
      const record = this.conn.statement<[number], JobRecord>('SELECT * FROM jobs WHERE job_id = ?').get(jobId);
      return record && toJobRow(record);
    });
  }

  jobs(sourceId: string): JobRow[] {
    return this.conn.run(() => this.conn.statement<[string], JobRecord>('SELECT * FROM jobs WHERE source_id = ? ORDER BY job_id DESC').all(sourceId).map(toJobRow));
  }

  acquireJobLease(jobId: number, owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number } {
    return acquireRowLease(this.conn, 'jobs', 'job_id', jobId, owner, nowMs, untilMs);
  }

  releaseJobLease(jobId: number, owner: string): void {
    releaseRowLease(this.conn, 'jobs', 'job_id', jobId, owner);
  }

  jobFoldersDone(jobId: number): Set<string> {
    return this.conn.run(
      () => new Set(this.conn.statement<[number], { folder: string }>('SELECT folder FROM job_folders WHERE job_id = ?').all(jobId).map((row) => row.folder)),
    );
  }

  recordJobFolder(jobId: number, folder: string, counts: { objectsDone: number; objectsFailed: number; events: number }, nowMs: number): void {
    this.conn.transaction(() => {
      const added = this.conn.statement('INSERT OR IGNORE INTO job_folders (job_id, folder, done_ms) VALUES (?, ?, ?)').run(jobId, folder, nowMs).changes;
      if (added === 0) return;
      this.conn
        .statement('UPDATE jobs SET objects_done = objects_done + ?, objects_failed = objects_failed + ?, events = events + ?, updated_ms = ? WHERE job_id = ?')
        .run(counts.objectsDone, counts.objectsFailed, counts.events, nowMs, jobId);
    });
  }

  finishJob(jobId: number, nowMs: number): void {
    this.conn.run(() => this.conn.statement('UPDATE jobs SET finished_ms = ?, updated_ms = ? WHERE job_id = ?').run(nowMs, nowMs, jobId));
  }

  #object(jobId: number, object: ObjectId): JobObjectRecord | undefined {
    return this.conn.statement<[number, string, string], JobObjectRecord>('SELECT * FROM job_objects WHERE job_id = ? AND bucket = ? AND key = ?').get(jobId, object.bucket, object.key);
  }

  jobObjects(jobId: number, bucket: string, keys: string[]): Map<string, JobObjectRow> {
    return this.conn.run(() => {
      const found = new Map<string, JobObjectRow>();
      for (const key of keys) {
        const record = this.#object(jobId, { bucket, key });
        if (record) found.set(key, toJobObjectRow(record));
      }
      return found;
    });
  }

  beginJobObject(jobId: number, object: ObjectRef): JobObjectRow {
    return this.conn.run(() => {
      this.conn
        .statement(
          `INSERT INTO job_objects (job_id, bucket, key, etag, status) VALUES (@job, @bucket, @key, @etag, 'in_progress')
           ON CONFLICT (job_id, bucket, key) DO UPDATE SET
             status = 'in_progress',
             -- A rewritten object starts over: what was delivered belongs to the old content.
             events = CASE WHEN etag = excluded.etag THEN events ELSE 0 END,
             bad_lines = CASE WHEN etag = excluded.etag THEN bad_lines ELSE 0 END,
             duplicates = CASE WHEN etag = excluded.etag THEN duplicates ELSE 0 END,
             etag = excluded.etag`,
        )
        .run({ job: jobId, bucket: object.bucket, key: object.key, etag: object.etag });
      return toJobObjectRow(this.#object(jobId, object)!);
    });
  }

  recordJobObjectProgress(jobId: number, object: ObjectId, progress: ObjectProgress, done: boolean): void {
    this.conn.run(() =>
      this.conn
        .statement(`UPDATE job_objects SET events = ?, bad_lines = ?, duplicates = ?, status = CASE WHEN ? THEN 'done' ELSE status END WHERE job_id = ? AND bucket = ? AND key = ?`)
        .run(progress.events, progress.badLines, progress.duplicates, done ? 1 : 0, jobId, object.bucket, object.key),
    );
  }

  failJobObjectAttempt(jobId: number, object: ObjectId, error: string, maxAttempts: number): JobObjectRow {
    return this.conn.run(() => {
      this.conn
        .statement(
          `UPDATE job_objects SET attempts = attempts + 1, last_error = @error, status = CASE WHEN attempts + 1 >= @max THEN 'failed' ELSE 'in_progress' END
           WHERE job_id = @job AND bucket = @bucket AND key = @key`,
        )
        .run({ job: jobId, bucket: object.bucket, key: object.key, error, max: maxAttempts });
      return toJobObjectRow(this.#object(jobId, object)!);
    });
  }
}
