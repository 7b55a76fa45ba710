import type { ObjectRef } from '../aws/types.js';
import type { LedgerStore, ObjectProgress } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import type { AttemptFailure, Checkpoint, FailureRecord } from './checkpoint.js';

/** The checkpoint of the ledger: one row per object of a source, in its partition ('' when notified). */
export class LedgerCheckpoint implements Checkpoint {
  constructor(
    private readonly ledger: LedgerStore,
    private readonly sourceId: string,
    private readonly partitionOf: (object: ObjectRef) => string,
    private readonly maxAttempts: number,
    private readonly clock: Clock,
  ) {}

  begin(object: ObjectRef): ObjectProgress {
    const row = this.ledger.beginObject(this.sourceId, this.partitionOf(object), object, this.clock.now());
    return { events: row.events, badLines: row.badLines, duplicates: row.duplicates };
  }

  progress(object: ObjectRef, progress: ObjectProgress): void {
    this.ledger.recordProgress(this.sourceId, object, progress, this.clock.now());
  }

  complete(object: ObjectRef, progress: ObjectProgress): void {
    this.ledger.completeObject(this.sourceId, object, progress, this.clock.now());
  }

  fail(object: ObjectRef, failure: AttemptFailure): FailureRecord {
    if (failure.kind === 'retry_later') {
      this.ledger.noteTransientError(this.sourceId, object, failure.error, this.clock.now());
      return { quarantined: false, attempts: 0, nextAttemptMs: null };
    }
    // A gone object has nothing left to try: it is quarantined at once, so the marker may pass it.
    const maxAttempts = failure.kind === 'object_gone' ? 1 : this.maxAttempts;
    const row = this.ledger.failObjectAttempt(this.sourceId, object, failure.error, maxAttempts, this.clock.now());
    return { quarantined: row.status === 'failed', attempts: row.attempts, nextAttemptMs: row.nextAttemptMs };
  }
}
