/**
 * One poll of one source: the only place that orders list → plan → fetch → parse → emit →
 * commit. Pages are handled one at a time, so memory does not grow with the bucket and the marker
 * moves forward during a long first pull.
 */
import { emit } from '../telemetry/events.js';
import { refOf, type ObjectGetter, type ObjectRef, type S3Bucket } from '../aws/types.js';
import type { CollectedSource } from './options.js';
import { DIGEST_CHECK_INTERVAL_MS, checkDigestsInPoll } from '../digest/digest-poll.js';
import type { KeysFor } from '../digest/public-keys.js';
import type { Sink } from '../sinks/types.js';
import type { LedgerRow, Store } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { sourceNamer } from './identifier.js';
import { Deduplicator } from '../pipeline/dedup.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import { listingFor } from './listing.js';
import { discoverPartitions, scopeOf } from './partitions.js';
import { dateSortKey, listInDateOrder } from './date-order.js';
import { SettledKeyWalker } from './settle.js';
import { compileKeyPattern } from '../util/key-pattern.js';
import { skipReason, type SkipReason } from './skip-rules.js';
import type { ParseThreads } from '../pipeline/parse-threads.js';
import { sourcePuller } from './source-puller.js';
import { LedgerCheckpoint } from '../pipeline/ledger-checkpoint.js';
import type { Checkpoint } from '../pipeline/checkpoint.js';
import { singleBucketGetter } from '../aws/s3-clients.js';
import { SinkError, StateError, errorMessage, isAbortError } from '../util/errors.js';
import { LEASE_MS, LEASE_OWNER, sourceLease, takeLease } from './source-lease.js';

export interface PollDependencies {
  store: Store;
  sink: Sink;
  /** Lists the source's bucket (and reads it, unless `getter` is given). */
  bucket: S3Bucket;
  /** Reads the objects; the bucket's own client by default. */
  getter?: ObjectGetter;
  clock: Clock;
  log: Logger;
  /** One per source, kept across polls so that the rate holds across poll boundaries. */
  throttle?: TokenBucket;
  /**
   * Objects being pulled right now (s3:// URLs), for the log of a shutdown that had to abandon
   * them; one that another runner of the source is pulling is left to it.
   */
  inFlight?: Set<string>;
  /** Objects younger than this are left for now (an SQS source's reconcile leaves them to their notification). */
  youngestMs?: number;
  /** Parse threads shared by every source; objects are parsed on the main thread without them. */
  parseThreads?: ParseThreads | undefined;
  /** CloudTrail's public keys for the source's digest check (`cloudtrail.digests: verify`); without them digests are not checked. */
  digestKeys?: ((sinceMs: number, untilMs: number, signal: AbortSignal) => Promise<KeysFor>) | undefined;
  /** How often digests are checked; once an hour by default, at every poll with 0 (`once`). */
  digestCheckEveryMs?: number | undefined;
  /**
   * Lists no objects: only finds the partitions and checks their digests. For an SQS source
   * without `reconcile`, whose objects come by notification but whose trail writes digests.
   */
  digestsOnly?: boolean;
}

export interface PollResult {
  sourceId: string;
  status: 'ok' | 'partial' | 'failed' | 'aborted' | 'busy';
  objectsDone: number;
  objectsFailed: number;
  objectsRetrying: number;
  objectsSkipped: number;
  events: number;
  badLines: number;
  /** Events dropped as repeats within the dedup window. */
  duplicates: number;
  /** Log files a CloudTrail digest listed that the marker had passed, pulled by this poll. */
  objectsRecovered?: number;
  /** Problems the CloudTrail digest check found (missing, altered, chain gaps, bad signatures). */
  digestProblems?: number;
  errors: string[];
  /** Set when the poll found something the whole service must stop for (the state file replaced). */
  fatal?: string;
  /** SQS sources: the messages received, deleted, and returned to the queue for a later try. */
  messages?: { received: number; deleted: number; returned: number };
}

/** A result with nothing counted yet. */
export function emptyPollResult(sourceId: string, status: PollResult['status'] = 'ok'): PollResult {
  return { sourceId, status, objectsDone: 0, objectsFailed: 0, objectsRetrying: 0, objectsSkipped: 0, events: 0, badLines: 0, duplicates: 0, errors: [] };
}

export async function pollSource(
  source: CollectedSource,
  deps: PollDependencies,
  signal: AbortSignal,
): Promise<PollResult> {
  const { store, clock } = deps;
  const log = deps.log.child({ source: source.id });
  const result = emptyPollResult(source.id);
  const startedMs = clock.now();
  const sinceMs = source.start === 'beginning' ? null : source.start === 'now' ? startedMs : source.start.since.getTime();
  const opened = store.openSource(source.id, scopeOf(source), sinceMs, startedMs);
  if (opened.previousScope) {
    emit(log, 'scope_changed', { was: opened.previousScope, now: scopeOf(source) });
  }
  const lease = takeLease(sourceLease(store, source.id), startedMs);
  if (lease.held && lease.tookOverFrom) emit(log, 'lease_taken_over', { holder: lease.tookOverFrom });
  if (!lease.held) {
    // Another process (the service, or `once`) is polling this source: two pollers would deliver twice.
    const message = `source ${source.id} is being polled by ${lease.owner} (lease until ${new Date(lease.untilMs).toISOString()}); skipped`;
    emit(log, 'source_busy', { holder: lease.owner });
    return { ...result, status: 'busy', errors: [message] };
  }
  const renewLease = () => store.acquireLease(source.id, LEASE_OWNER, clock.now(), clock.now() + LEASE_MS);
  store.recordPollStart(source.id, startedMs);
  const filePattern = compileKeyPattern(source.file_pattern);
  let unmatchedKeys = 0;
  const sourceNameFor = sourceNamer(source, (key) => {
    unmatchedKeys += 1;
    if (unmatchedKeys === 1) emit(log, 'key_unmatched', { key });
  });
  const listing = listingFor(source.listing);
  let stopReason: unknown;
  const dedup = source.dedup ? new Deduplicator(store, source.id, source.dedup.window) : undefined;
  const puller = sourcePuller({
    source,
    sink: deps.sink,
    getter: deps.getter ?? singleBucketGetter(deps.bucket),
    clock,
    log,
    signal,
    throttle: deps.throttle ?? new TokenBucket(source.eps_throttle, clock),
    sourceNameFor,
    dedup,
    tally: result,
    inFlight: deps.inFlight,
    parseThreads: deps.parseThreads,
    onBatch: renewLease,
  });

  /** Pulls objects of one partition in key order, `concurrency` at a time; returns which finished. */
  const pullAll = async (objects: ObjectRef[], checkpoint: Checkpoint): Promise<Set<string>> => {
    const finished = await puller.pullAll(objects, checkpoint);
    stopReason ??= puller.stopReason;
    return finished;
  };

  try {
    // Partitions are looked for at the first poll and then every partition_discovery: a new
    // account or region shows up within that time, and a steady-state poll costs no walk.
    const known = store.partitions(source.id);
    const lastDiscovery = store.getSource(source.id)!.lastDiscoveryMs;
    if (known.length === 0 || lastDiscovery === null || startedMs - lastDiscovery >= source.partition_discovery) {
      const found = await discoverPartitions(deps.bucket, source.prefix, signal);
      const added = found.filter((candidate) => !known.some((partition) => partition.prefix === candidate.prefix));
      store.recordDiscovery(source.id, found, startedMs);
      if (added.length > 0 && known.length > 0) emit(log, 'partitions_found', { partitions: added.map((p) => p.prefix) });
    }
    // A reset applies after discovery, so that --after KEY finds the partition KEY is in.
    const reset = store.applyPendingReset(source.id);
    if (reset) emit(log, 'marker_reset_applied', { reset: JSON.stringify(reset) });
    const startFilterMs = store.getSource(source.id)!.sinceMs;

    for (const partition of deps.digestsOnly ? [] : store.partitions(source.id)) {
      const prefix = partition.prefix;
      const checkpoint = new LedgerCheckpoint(store, source.id, () => prefix, source.max_attempts, clock);
      const nowMs = clock.now();
      // Keys compare as text, except where date folders lack their leading zeros (AWS Config).
      const order = (key: string) => (partition.unpaddedDates ? dateSortKey(prefix, key) : key);

      // Objects left in progress below the marker (a reset --after, or a retry) are taken first.
      const leftBehind = store
        .pendingObjects(source.id, prefix)
        .filter((row) => order(row.key) <= order(partition.settledKey) && due(row, nowMs))
        .map(toObjectRef);
      if (leftBehind.length > 0) await pullAll(leftBehind, checkpoint);

      const walker = new SettledKeyWalker(nowMs - source.late_window);
      let settled = partition.settledKey;
      const pages =
        partition.unpaddedDates && listing.movesMarker
          ? listInDateOrder(deps.bucket, prefix, partition.settledKey, signal)
          : deps.bucket.listPages(prefix, listing.startAfter(partition.settledKey), signal);
      for await (const page of pages) {
        if (stopReason !== undefined || signal.aborted) break;
        renewLease();
        const known = store.ledger(source.id, source.bucket, page.map((object) => object.key));
        const skipped = new Map<SkipReason, ObjectRef[]>();
        const toPull: ObjectRef[] = [];
        const finishedBefore = new Set<string>();
        for (const listed of page) {
          const object = refOf(source.bucket, listed);
          const row = known.get(object.key);
          if (row && (row.status === 'done' || row.status === 'failed' || row.status === 'skipped')) {
            finishedBefore.add(object.key);
            continue;
          }
          const reason = row ? undefined : skipReason(object, filePattern, startFilterMs);
          if (reason) {
            skipped.set(reason, [...(skipped.get(reason) ?? []), object]);
            finishedBefore.add(object.key);
            continue;
          }
          if (row && !due(row, nowMs)) continue;
          if (deps.youngestMs !== undefined && object.lastModified.getTime() > nowMs - deps.youngestMs) continue;
          toPull.push(object);
        }
        for (const [reason, objects] of skipped) {
          store.skipObjects(source.id, prefix, objects, reason, nowMs);
          result.objectsSkipped += objects.length;
          emit(log, 'objects_skipped', { reason, count: objects.length });
        }
        const finishedNow = await pullAll(toPull, checkpoint);
        for (const object of page) {
          walker.visit(object.key, object.lastModified.getTime(), finishedBefore.has(object.key) || finishedNow.has(object.key));
        }
        // Only forward: a listing from the marker on yields nothing before it, but a guard is cheap.
        if (listing.movesMarker && walker.settledKey && order(walker.settledKey) > order(settled)) {
          settled = walker.settledKey;
          // The time the listing began: an object written after it may not be in it, whatever its key.
          store.setSettledKey(source.id, prefix, settled, nowMs);
        }
      }
    }
    if (source.cloudtrail?.digests === 'verify' && deps.digestKeys && stopReason === undefined && !signal.aborted) {
      const checked = await checkDigestsInPoll({
        sourceId: source.id,
        store,
        bucket: deps.bucket,
        nowMs: clock.now(),
        historyRetentionMs: source.history_retention,
        log,
        signal,
        keys: deps.digestKeys,
        everyMs: deps.digestCheckEveryMs ?? DIGEST_CHECK_INTERVAL_MS,
        wanted: (object) => skipReason(object, filePattern, startFilterMs) === undefined,
        pull: (objects, prefix) => pullAll(objects, new LedgerCheckpoint(store, source.id, () => prefix, source.max_attempts, clock)),
      });
      if (checked.checked) {
        result.objectsRecovered = checked.recovered;
        result.digestProblems = checked.problems;
        emit(log, 'digests_checked', { digests: checked.digests, recovered: checked.recovered, problems: checked.problems });
      }
    }
  } catch (error) {
    if (isAbortError(error)) stopReason ??= error;
    else if (error instanceof StateError) stopReason ??= error;
    else {
      result.status = 'failed';
      result.errors.push(errorMessage(error));
      emit(log, 'poll_failed', { error: errorMessage(error) });
    }
  }

  if (stopReason !== undefined && result.status !== 'failed') {
    if (stopReason instanceof SinkError) {
      result.status = 'failed';
      result.errors.push(stopReason.message);
      emit(log, 'output_failed', { error: stopReason.message });
    } else if (stopReason instanceof StateError) {
      result.status = 'failed';
      result.errors.push(stopReason.message);
      if (stopReason.code === 'STATE_REPLACED') result.fatal = stopReason.message;
      emit(log, 'state_unusable', { error: stopReason.message });
    } else {
      result.status = 'aborted';
    }
  } else if (result.status === 'ok' && (result.objectsFailed > 0 || result.objectsRetrying > 0)) {
    result.status = 'partial';
  }
  try {
    if (result.status === 'ok' || result.status === 'partial') {
      // The ledger stays bounded: rows below the marker are history, kept for history_retention.
      const pruned = store.pruneHistory(source.id, clock.now() - source.history_retention, (partition, key) =>
        dateSortKey(partition.prefix, key) <= dateSortKey(partition.prefix, partition.settledKey),
      );
      if (pruned > 0) emit(log, 'history_pruned', { rows: pruned });
      if (dedup) dedup.prune(clock.now());
    }
    store.recordPollEnd(source.id, result.status, result.errors[0] ?? null, clock.now());
    store.releaseLease(source.id, LEASE_OWNER);
  } catch (error) {
    // The state file failed after the work was done (or while it failed already): said once.
    const message = errorMessage(error);
    if (!result.errors.includes(message)) {
      result.errors.push(message);
      emit(log, 'state_unusable', { error: message, after_poll: true });
    }
    result.status = 'failed';
    if (error instanceof StateError && error.code === 'STATE_REPLACED') result.fatal = message;
  }
  emit(log, 'poll_finished', {
    status: result.status,
    objects: result.objectsDone,
    events: result.events,
    ...(result.duplicates > 0 ? { repeats_dropped: result.duplicates } : {}),
    failed: result.objectsFailed,
    retrying: result.objectsRetrying,
    skipped: result.objectsSkipped,
    seconds: (clock.now() - startedMs) / 1000,
  });
  return result;
}

function due(row: LedgerRow, nowMs: number): boolean {
  return row.nextAttemptMs === null || row.nextAttemptMs <= nowMs;
}

function toObjectRef(row: LedgerRow): ObjectRef {
  return { bucket: row.bucket, key: row.key, etag: row.etag, size: row.size, lastModified: new Date(row.lastModifiedMs) };
}
