import type { ObjectId, ObjectRef } from '../aws/types.js';

export type ObjectStatus = 'in_progress' | 'done' | 'failed' | 'skipped';

export interface LedgerRow {
  bucket: string;
  key: string;
  partition: string;
  etag: string;
  size: number;
  lastModifiedMs: number;
  status: ObjectStatus;
  /** Events delivered so far; for an object in progress, where a retry resumes. */
  events: number;
  badLines: number;
  /** Events dropped as repeats (dedup); like bad lines they hold positions in the object. */
  duplicates: number;
  attempts: number;
  lastError: string | null;
  nextAttemptMs: number | null;
  /** SHA-256 (hex) of the decompressed bytes delivered, where the source hashes its objects. */
  sha256: string | null;
}

export type ResetRequest = { mode: 'beginning' } | { mode: 'since'; sinceMs: number } | { mode: 'after'; key: string };

export interface SourceRow {
  sourceId: string;
  scope: string;
  sinceMs: number | null;
  createdMs: number;
  resetRequest: ResetRequest | null;
  lastPollStartMs: number | null;
  lastPollEndMs: number | null;
  lastPollStatus: string | null;
  lastPollError: string | null;
  nextPollMs: number | null;
  lastDiscoveryMs: number | null;
  objectsDone: number;
  objectsFailed: number;
  objectsSkipped: number;
  events: number;
  badLines: number;
  duplicates: number;
  /** SQS sources: the queue as last seen (approximate, as SQS counts). */
  queue: QueueStats | null;
}

export interface QueueStats {
  messages: number;
  inFlight: number;
  /** When the oldest message this consumer has received lately was sent. */
  oldestSentMs: number | null;
  checkedMs: number;
}

/** What has been delivered of one object, committed together with the dedup keys of those events. */
export interface ObjectProgress {
  events: number;
  badLines: number;
  duplicates: number;
  /** Dedup keys of the events just delivered, remembered from `nowMs` on. */
  dedupKeys?: string[];
  /** At completion: SHA-256 (hex) of the object's decompressed bytes, where the source hashes them. */
  sha256?: string | undefined;
}

export interface PartitionRow {
  prefix: string;
  settledKey: string;
  newestDoneModifiedMs: number | null;
  /** Date folders written without leading zeros: keys are ordered as dates, not as text. */
  unpaddedDates: boolean;
}

export interface DiscoveredPartition {
  prefix: string;
  unpaddedDates: boolean;
  /** Its keys are under year/month/day folders (set by discovery; not stored). */
  dated?: boolean;
}

export interface OpenSourceResult {
  state: SourceRow;
  /** Set when the stored scope differs from the configured one: the old state was cleared. */
  previousScope?: string;
  created: boolean;
}

/** A source's own row: its scope, reset requests, poll times and counters. */
export interface SourceStateStore {
  /** Creates the source's state, or clears it when its scope changed. */
  openSource(sourceId: string, scope: string, sinceMs: number | null, nowMs: number): OpenSourceResult;
  getSource(sourceId: string): SourceRow | undefined;
  listSources(): SourceRow[];
  requestReset(sourceId: string, request: ResetRequest): void;
  /** Applies a pending reset, if any, and returns it. */
  applyPendingReset(sourceId: string): ResetRequest | null;
  recordPollStart(sourceId: string, nowMs: number): void;
  recordPollEnd(sourceId: string, status: string, error: string | null, nowMs: number): void;
  recordNextPoll(sourceId: string, nextMs: number | null): void;
  recordQueueStats(sourceId: string, stats: QueueStats): void;
  /** Adds AWS requests (per operation and UTC day); counts of a source without state yet are dropped. */
  addRequests(counts: { sourceId: string; day: string; operation: string; count: number }[]): void;
  /** The source's requests from `fromDay` (YYYY-MM-DD, UTC) on: day → operation → count. */
  requestsSince(sourceId: string, fromDay: string): Record<string, Record<string, number>>;
}

/** The markers: one settled key per partition of a prefix source. */
export interface MarkerStore {
  partitions(sourceId: string): PartitionRow[];
  ensurePartition(sourceId: string, prefix: string): PartitionRow;
  /** Records the partitions found under the prefix (new ones start at the beginning) and when. */
  recordDiscovery(sourceId: string, partitions: DiscoveredPartition[], nowMs: number): void;
  /**
   * Sets the settled key; the poll moves it only forward, in its partition's order. Where it
   * moves into a later day folder, when that happened is kept (`markerLeftDay`).
   */
  setSettledKey(sourceId: string, prefix: string, key: string, nowMs?: number): void;
  /** When the partition's marker had left a day folder (YYYY-MM-DD) behind, if it has. */
  markerLeftDay(sourceId: string, prefix: string, day: string): number | null;
}

/** The ledger: what has been pulled of each object, keyed by source, bucket and key. */
export interface LedgerStore {
  ledger(sourceId: string, bucket: string, keys: string[]): Map<string, LedgerRow>;
  pendingObjects(sourceId: string, partition: string): LedgerRow[];
  failedObjects(sourceId: string): LedgerRow[];
  /** Puts quarantined objects (one key, or all) back in the queue; returns how many. */
  requeueFailed(sourceId: string, key?: string): number;
  beginObject(sourceId: string, partition: string, object: ObjectRef, nowMs: number): LedgerRow;
  /** Records delivered events of an object still in progress (a crash resumes after them). */
  recordProgress(sourceId: string, object: ObjectId, progress: ObjectProgress, nowMs: number): void;
  completeObject(sourceId: string, object: ObjectId, progress: ObjectProgress, nowMs: number): void;
  failObjectAttempt(sourceId: string, object: ObjectId, error: string, maxAttempts: number, nowMs: number): LedgerRow;
  noteTransientError(sourceId: string, object: ObjectId, error: string, nowMs: number): void;
  skipObjects(sourceId: string, partition: string, objects: ObjectRef[], reason: string, nowMs: number): void;
  /** Removes an object's row (and its count as failed): for a key that named no object after all. */
  forgetObject(sourceId: string, object: ObjectId): void;
  /**
   * Forgets ledger rows at or below the partition's settled key that were finished before
   * `beforeMs`: the marker alone keeps those objects from being listed again. Rows of objects
   * that came by notification (no partition) go once they are older than `beforeMs` too. Quarantined
   * objects are kept for `s3pull failed`. Where keys do not sort as text (unpadded dates),
   * `belowMarker` decides. Returns how many rows went.
   */
  pruneHistory(sourceId: string, beforeMs: number, belowMarker: (partition: PartitionRow, key: string) => boolean, notifiedBeforeMs?: number): number;
}

/** Dedup keys of delivered events, within a source's window. */
export interface DedupStore {
  /** Which of `keys` were delivered at or after `sinceMs` (the dedup window). */
  seenDedupKeys(sourceId: string, keys: string[], sinceMs: number): Set<string>;
  /** Forgets dedup keys older than `beforeMs`; returns how many. */
  pruneDedupKeys(sourceId: string, beforeMs: number): number;
}

/** One poller per source at a time, across processes sharing the state file. */
export interface LeaseStore {
  /**
   * Takes or renews the source's lease for `owner` until `untilMs`; returns the current holder
   * when another owner's lease has not expired yet.
   */
  acquireLease(sourceId: string, owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number };
  releaseLease(sourceId: string, owner: string): void;
}

/** The whole state file; each consumer takes only the part it needs. */
/** What one CloudTrail digest proved when it was last checked. */
export interface DigestCheckRow {
  key: string;
  endMs: number;
  checkedMs: number;
  filesListed: number;
  filesDelivered: number;
  /** Listed files the marker had passed, pulled because the digest named them. */
  recovered: number;
  /** The problems found (src/digest/verify.ts Finding), none when the digest proved everything. */
  findings: { kind: string; [field: string]: unknown }[];
}

export interface DigestCheckStore {
  recordDigestCheck(sourceId: string, row: DigestCheckRow): void;
  /** The checks of digests whose hour ended at or after `sinceMs`, in time order. */
  digestChecks(sourceId: string, sinceMs: number): DigestCheckRow[];
  lastDigestCheckMs(sourceId: string): number | null;
  /** Forgets the checks of digests whose hour ended before `beforeMs` (they are not checked again). */
  pruneDigestChecks(sourceId: string, beforeMs: number): number;
  recordDigestCheckTime(sourceId: string, nowMs: number): void;
}

export type JobKind = 'backfill' | 'replay';

/** What a backfill or replay job covers: a source's day folders from one UTC day to another, inclusive. */
export interface JobSpec {
  sourceId: string;
  kind: JobKind;
  /** YYYY-MM-DD (UTC). */
  fromDay: string;
  toDay: string;
  /** A replay's output (a name under `outputs` in s3pull.yaml); null for the source's own. */
  output: string | null;
}

export interface JobRow extends JobSpec {
  jobId: number;
  startedMs: number;
  updatedMs: number;
  finishedMs: number | null;
  objectsDone: number;
  objectsFailed: number;
  events: number;
}

/** What a replay delivered of one object: its own ledger, beside the live one. */
export interface JobObjectRow {
  key: string;
  etag: string;
  status: 'in_progress' | 'done' | 'failed';
  events: number;
  badLines: number;
  duplicates: number;
  attempts: number;
  lastError: string | null;
}

/** Backfill and replay jobs: their progress, so that one broken off resumes where it was. */
export interface JobStore {
  /** The unfinished job of this spec, to resume, or a new one. */
  openJob(spec: JobSpec, nowMs: number): { job: JobRow; resumed: boolean };
  getJob(jobId: number): JobRow | undefined;
  /** The source's jobs, newest first. */
  jobs(sourceId: string): JobRow[];
  /** One holder per job at a time (two copies of one command would deliver twice). */
  acquireJobLease(jobId: number, owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number };
  releaseJobLease(jobId: number, owner: string): void;
  /** The folders (a partition's day folder, or a whole partition) the job has finished. */
  jobFoldersDone(jobId: number): Set<string>;
  /** Records a finished folder, with what it added to the job's counts, in one transaction. */
  recordJobFolder(jobId: number, folder: string, counts: { objectsDone: number; objectsFailed: number; events: number }, nowMs: number): void;
  finishJob(jobId: number, nowMs: number): void;
  jobObjects(jobId: number, bucket: string, keys: string[]): Map<string, JobObjectRow>;
  beginJobObject(jobId: number, object: ObjectRef): JobObjectRow;
  recordJobObjectProgress(jobId: number, object: ObjectId, progress: ObjectProgress, done: boolean): void;
  /** Counts a failed attempt; the object is given up on (status failed) after `maxAttempts`. */
  failJobObjectAttempt(jobId: number, object: ObjectId, error: string, maxAttempts: number): JobObjectRow;
}

export interface Store extends SourceStateStore, MarkerStore, LedgerStore, DedupStore, LeaseStore, DigestCheckStore, JobStore {
  close(): void;
}
