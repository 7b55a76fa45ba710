import type { ObjectRef } from '../aws/types.js';
import type { ObjectProgress } from '../state/types.js';

/** What an attempt at an object ended with, as the object worker decided. */
export type AttemptFailure =
  /** The object's fault (unreadable, refused by the receiver): one attempt of max_attempts. */
  | { kind: 'attempt_failed'; error: string }
  /** Deleted before it was read: nothing left to pull. */
  | { kind: 'object_gone'; error: string }
  /** Not the object's fault (throttling, network, a rewrite): tried again later, not counted. */
  | { kind: 'retry_later'; error: string };

export interface FailureRecord {
  /** Given up on for good (`s3pull failed` lists it, `s3pull retry` brings it back). */
  quarantined: boolean;
  attempts: number;
  /** When the next attempt is due, if the store set one. */
  nextAttemptMs: number | null;
}

/**
 * Where the object path records what it delivered. Progress is recorded after each delivered
 * batch, so a crash repeats at most one batch and a retry resumes after it. The ledger is one
 * implementation; the queue runner's wraps it and also settles the message.
 */
export interface Checkpoint {
  /** The object is about to be read: what earlier attempts delivered, to resume after. */
  begin(object: ObjectRef): ObjectProgress;
  progress(object: ObjectRef, progress: ObjectProgress): void;
  complete(object: ObjectRef, progress: ObjectProgress): void;
  fail(object: ObjectRef, failure: AttemptFailure): FailureRecord;
}
