/**
 * A backfill or replay job (`s3pull backfill`): the day folders of a date range, listed folder by
 * folder beside the live marker, which it never moves or resets.
 *
 * - backfill: pulls each object the live ledger does not have as done, through the live ledger,
 *   so `run` will not pull it again; it takes the source's lease for each page, as a poll does,
 *   so the two never pull one object at once.
 * - replay (`--again`): delivers every object again, to the source's output or another one; what
 *   it delivered is recorded in its own ledger, and the live state is left as it was.
 *
 * Either records each folder it finished, so a job broken off (SIGTERM, SIGKILL, a failed output)
 * resumes at the next run of the same command with the folders it had not finished.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { emit } from '../telemetry/events.js';
import { refOf, type ObjectGetter, type ObjectRef, type S3Bucket } from '../aws/types.js';
import type { CollectedSource } from '../poll/options.js';
import type { Sink } from '../sinks/types.js';
import type { JobKind, JobRow, Store } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { sourceNamer } from '../poll/identifier.js';
import { Deduplicator } from '../pipeline/dedup.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import { discoverPartitions, scopeOf } from '../poll/partitions.js';
import { compileKeyPattern } from '../util/key-pattern.js';
import { skipReason } from '../poll/skip-rules.js';
import type { ParseThreads } from '../pipeline/parse-threads.js';
import { LedgerCheckpoint } from '../pipeline/ledger-checkpoint.js';
import type { Checkpoint } from '../pipeline/checkpoint.js';
import { singleBucketGetter } from '../aws/s3-clients.js';
import { sourcePuller, type PullTally } from '../poll/source-puller.js';
import { LEASE_MS, LEASE_OWNER, sourceLease, takeLease, type Lease } from '../poll/source-lease.js';
import { SinkError, StateError, errorMessage, isAbortError } from '../util/errors.js';
import { dayFolder, daysOf, spanOf } from './day-folders.js';
import { dayOfKey } from '../util/day-of-key.js';
import { JobCheckpoint } from './job-checkpoint.js';

/**
 * An object's LastModified is when its upload began; one begun this shortly before the marker's
 * listing may have been missing from it. Such an object is pulled rather than taken as delivered.
 */
const WRITE_MARGIN_MS = 60_000;

export interface JobRequest {
  kind: JobKind;
  fromDay: string;
  toDay: string;
  /** A replay to another output: its name under `outputs`. */
  output: string | null;
}

export interface JobDependencies {
  store: Store;
  sink: Sink;
  bucket: S3Bucket;
  getter?: ObjectGetter;
  clock: Clock;
  log: Logger;
  parseThreads?: ParseThreads | undefined;
  /** Objects younger than this are left to their notification (an SQS source's queue pulls them). */
  youngestMs?: number | undefined;
  /** How long to wait before asking again for a lease another poller holds. */
  leaseRetryMs?: number;
  onStart?: (progress: JobProgress) => void;
  onFolderDone?: (progress: JobProgress) => void;
}

/** Where a job stands, for the progress bar. */
export interface JobProgress {
  folders: number;
  foldersDone: number;
  objects: number;
  events: number;
}

export interface JobResult extends PullTally {
  job: JobRow | undefined;
  resumed: boolean;
  /** done: every folder finished; partial: some objects are to be tried again; busy: another process runs the job. */
  status: 'done' | 'partial' | 'failed' | 'aborted' | 'busy';
  folders: number;
  foldersDone: number;
  /** Objects in range the ledger (or the replay's own) already had as done or quarantined. */
  alreadyDone: number;
  objectsSkipped: number;
  /** Objects not finished (tried again at the next run of the command), or left to the queue. */
  objectsLeft: number;
  /** Objects younger than the queue's grace, left to their notification. */
  leftToQueue: number;
}

interface Folder {
  /** What the job records as done: the day folder, or the partition when it has no date folders. */
  id: string;
  prefix: string;
  partition: string;
  /** An undated partition is listed whole, its objects taken by LastModified. */
  modifiedWithin?: { startMs: number; endMs: number };
}

export async function runJob(source: CollectedSource, request: JobRequest, deps: JobDependencies, signal: AbortSignal): Promise<JobResult> {
  const { store, clock } = deps;
  const log = deps.log.child({ source: source.id });
  const startedMs = clock.now();
  const result: JobResult = {
    job: undefined,
    resumed: false,
    status: 'done',
    folders: 0,
    foldersDone: 0,
    alreadyDone: 0,
    objectsSkipped: 0,
    objectsLeft: 0,
    leftToQueue: 0,
    objectsDone: 0,
    objectsFailed: 0,
    objectsRetrying: 0,
    events: 0,
    badLines: 0,
    duplicates: 0,
    errors: [],
  };
  const replay = request.kind === 'replay';
  const sinceMs = source.start === 'beginning' ? null : source.start === 'now' ? startedMs : source.start.since.getTime();
  // The job's rows belong to the source's state, which it creates as a poll would (the scope rule included).
  const opened = store.openSource(source.id, scopeOf(source), sinceMs, startedMs);
  if (opened.previousScope) emit(log, 'scope_changed', { was: opened.previousScope, now: scopeOf(source) });
  const { job, resumed } = store.openJob({ sourceId: source.id, ...request }, startedMs);
  result.job = job;
  result.resumed = resumed;
  const jobLease: Lease = { acquire: (owner: string, nowMs: number, untilMs: number) => store.acquireJobLease(job.jobId, owner, nowMs, untilMs), release: (owner: string) => store.releaseJobLease(job.jobId, owner) };
  const held = takeLease(jobLease, clock.now());
  if (!held.held) {
    result.status = 'busy';
    result.errors.push(`${request.kind} job #${job.jobId} of ${source.id} is being run by ${held.owner}; run it there, or wait until it ends`);
    return result;
  }
  const liveLease = sourceLease(store, source.id);
  let holdingSource = false;
  const renew = () => {
    jobLease.acquire(LEASE_OWNER, clock.now(), clock.now() + LEASE_MS);
    if (holdingSource) liveLease.acquire(LEASE_OWNER, clock.now(), clock.now() + LEASE_MS);
  };

  const filePattern = compileKeyPattern(source.file_pattern);
  const puller = sourcePuller({
    source,
    sink: deps.sink,
    getter: deps.getter ?? singleBucketGetter(deps.bucket),
    clock,
    log,
    signal,
    throttle: new TokenBucket(source.eps_throttle, clock),
    sourceNameFor: sourceNamer(source),
    // A replay delivers what the source delivered: the live dedup keys would drop all of it.
    dedup: source.dedup && !replay ? new Deduplicator(store, source.id, source.dedup.window) : undefined,
    tally: result,
    parseThreads: deps.parseThreads,
    onBatch: renew,
  });
  let stopReason: unknown;

  /** Waits for the source's lease (a poll of `run` or `once` may hold it); false when stopped. */
  const takeSource = async (): Promise<boolean> => {
    let announced = false;
    for (;;) {
      const lease = takeLease(liveLease, clock.now());
      if (lease.held) {
        holdingSource = true;
        return true;
      }
      if (!announced) emit(log, 'job_waiting', { job: job.jobId, holder: lease.owner });
      announced = true;
      try {
        await sleep(deps.leaseRetryMs ?? 2000, undefined, { signal });
      } catch {
        return false;
      }
    }
  };
  const releaseSource = () => {
    if (holdingSource) liveLease.release(LEASE_OWNER);
    holdingSource = false;
  };

  const sourceSinceMs = store.getSource(source.id)?.sinceMs ?? null;
  const leftDays = new Map<string, number | null>();
  /**
   * Whether the live marker left this object's day behind after the object was written: it was
   * then delivered (or quarantined) even if its ledger row has since been pruned
   * (history_retention). One written later arrived after the marker had passed: it is pulled. So
   * is one older than the source's start, which the live poll skipped rather than delivered.
   */
  const passedByMarker = (folder: Folder, object: ObjectRef): boolean => {
    const day = dayOfKey(folder.partition, object.key);
    if (day === undefined) return false;
    const modifiedMs = object.lastModified.getTime();
    if (sourceSinceMs !== null && modifiedMs < sourceSinceMs) return false;
    const cacheKey = `${folder.partition}\u0000${day}`;
    if (!leftDays.has(cacheKey)) leftDays.set(cacheKey, store.markerLeftDay(source.id, folder.partition, day));
    const leftMs = leftDays.get(cacheKey)!;
    return leftMs !== null && modifiedMs < leftMs - WRITE_MARGIN_MS;
  };

  /** Pulls one page of a folder; returns how many of its objects are not finished. */
  const pullPage = async (folder: Folder, page: ObjectRef[]): Promise<number> => {
    const nowMs = clock.now();
    const toPull: ObjectRef[] = [];
    let left = 0;
    const inRange = page.filter((object) => !folder.modifiedWithin || (object.lastModified.getTime() >= folder.modifiedWithin.startMs && object.lastModified.getTime() < folder.modifiedWithin.endMs));
    // A backfill goes back before the source's start: that filter is the live poll's, not the job's.
    const wanted = inRange.filter((object) => {
      if (skipReason(object, filePattern, null) === undefined) return true;
      result.objectsSkipped += 1;
      return false;
    });
    if (wanted.length === 0) return 0;
    let checkpoint: Checkpoint;
    if (replay) {
      const known = store.jobObjects(job.jobId, source.bucket, wanted.map((object) => object.key));
      for (const object of wanted) {
        const row = known.get(object.key);
        if (row && row.status !== 'in_progress') result.alreadyDone += 1;
        else toPull.push(object);
      }
      checkpoint = new JobCheckpoint(store, job.jobId, source.max_attempts);
    } else {
      const known = store.ledger(source.id, source.bucket, wanted.map((object) => object.key));
      for (const object of wanted) {
        const row = known.get(object.key);
        // Skipped only for being older than the source's start: the job is here for those.
        if (row && (row.status === 'done' || row.status === 'failed' || (row.status === 'skipped' && row.lastError !== 'before_start'))) {
          result.alreadyDone += 1;
        } else if (!row && passedByMarker(folder, object)) {
          result.alreadyDone += 1;
        } else if (deps.youngestMs !== undefined && object.lastModified.getTime() > nowMs - deps.youngestMs) {
          result.leftToQueue += 1;
        } else if (row?.nextAttemptMs != null && row.nextAttemptMs > nowMs) {
          left += 1;
        } else {
          toPull.push(object);
        }
      }
      checkpoint = new LedgerCheckpoint(store, source.id, () => folder.partition, source.max_attempts, clock);
    }
    if (toPull.length === 0) return left;
    const finished = await puller.pullAll(toPull, checkpoint);
    stopReason ??= puller.stopReason;
    return left + toPull.length - finished.size;
  };

  try {
    const partitions = await discoverPartitions(deps.bucket, source.prefix, signal);
    const span = spanOf(request.fromDay, request.toDay);
    const folders: Folder[] = partitions.flatMap((partition) =>
      partition.dated
        ? daysOf(request.fromDay, request.toDay).map((day) => {
            const prefix = dayFolder(partition.prefix, day, partition.unpaddedDates);
            return { id: prefix, prefix, partition: partition.prefix };
          })
        : [{ id: partition.prefix, prefix: partition.prefix, partition: partition.prefix, modifiedWithin: span }],
    );
    const done = store.jobFoldersDone(job.jobId);
    result.folders = folders.length;
    result.foldersDone = folders.filter((folder) => done.has(folder.id)).length;
    const progress = (): JobProgress => ({ folders: result.folders, foldersDone: result.foldersDone, objects: result.objectsDone, events: result.events });
    emit(log, 'job_started', { job: job.jobId, kind: request.kind, from: request.fromDay, to: request.toDay, output: request.output ?? 'the source\'s', folders: folders.length, resumed, folders_done: result.foldersDone });
    deps.onStart?.(progress());

    for (const folder of folders) {
      if (done.has(folder.id)) continue;
      if (stopReason !== undefined || signal.aborted) break;
      const before = { objectsDone: result.objectsDone, objectsFailed: result.objectsFailed, events: result.events, alreadyDone: result.alreadyDone };
      let left = 0;
      for await (const listed of deps.bucket.listPages(folder.prefix, undefined, signal)) {
        if (stopReason !== undefined || signal.aborted) break;
        if (!replay && !(await takeSource())) break;
        try {
          left += await pullPage(folder, listed.map((object) => refOf(source.bucket, object)));
        } finally {
          // Between pages the live poll may take its turn: a long backfill delays it by one page at most.
          releaseSource();
        }
      }
      if (stopReason !== undefined || signal.aborted) break;
      result.objectsLeft += left;
      if (left > 0) continue;
      store.recordJobFolder(
        job.jobId,
        folder.id,
        { objectsDone: result.objectsDone - before.objectsDone, objectsFailed: result.objectsFailed - before.objectsFailed, events: result.events - before.events },
        clock.now(),
      );
      result.foldersDone += 1;
      emit(log, 'job_folder_done', { job: job.jobId, folder: folder.id, objects: result.objectsDone - before.objectsDone, events: result.events - before.events, already_done: result.alreadyDone - before.alreadyDone });
      deps.onFolderDone?.(progress());
    }
    if (result.foldersDone === result.folders && stopReason === undefined && !signal.aborted) store.finishJob(job.jobId, clock.now());
  } catch (error) {
    if (isAbortError(error) || error instanceof StateError) stopReason ??= error;
    else {
      result.status = 'failed';
      result.errors.push(errorMessage(error));
    }
  } finally {
    try {
      releaseSource();
      jobLease.release(LEASE_OWNER);
    } catch (error) {
      stopReason ??= error;
    }
  }

  if (result.status !== 'failed') {
    if (stopReason instanceof SinkError || stopReason instanceof StateError) {
      result.status = 'failed';
      result.errors.push(stopReason.message);
    } else if (stopReason !== undefined || signal.aborted) {
      result.status = 'aborted';
    } else if (result.foldersDone < result.folders) {
      result.status = 'partial';
    }
  }
  emit(log, 'job_finished', {
    job: job.jobId,
    kind: request.kind,
    status: result.status,
    objects: result.objectsDone,
    events: result.events,
    failed: result.objectsFailed,
    already_done: result.alreadyDone,
    left: result.objectsLeft,
    seconds: (clock.now() - startedMs) / 1000,
  });
  return result;
}
