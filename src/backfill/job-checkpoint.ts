import type { ObjectRef } from '../aws/types.js';
import type { JobStore, ObjectProgress } from '../state/types.js';
import type { AttemptFailure, Checkpoint, FailureRecord } from '../pipeline/checkpoint.js';

/**
 * The checkpoint of a replay: what it delivered of each object is its own, so the live ledger
 * (and the dedup keys of what the source delivered) stays as it was. Like the ledger, it records
 * after each batch, so a replay broken off resumes after its last delivered batch.
 */
export class JobCheckpoint implements Checkpoint {
  constructor(
    private readonly jobs: JobStore,
    private readonly jobId: number,
    private readonly maxAttempts: number,
  ) {}

  begin(object: ObjectRef): ObjectProgress {
    const row = this.jobs.beginJobObject(this.jobId, object);
    return { events: row.events, badLines: row.badLines, duplicates: row.duplicates };
  }

  progress(object: ObjectRef, progress: ObjectProgress): void {
    this.jobs.recordJobObjectProgress(this.jobId, object, progress, false);
  }

  complete(object: ObjectRef, progress: ObjectProgress): void {
    this.jobs.recordJobObjectProgress(this.jobId, object, progress, true);
  }

  fail(object: ObjectRef, failure: AttemptFailure): FailureRecord {
    // Not the object's fault: the next run of the command tries it again.
    if (failure.kind === 'retry_later') return { quarantined: false, attempts: 0, nextAttemptMs: null };
    const row = this.jobs.failJobObjectAttempt(this.jobId, object, failure.error, failure.kind === 'object_gone' ? 1 : this.maxAttempts);
    return { quarantined: row.status === 'failed', attempts: row.attempts, nextAttemptMs: null };
  }
}
