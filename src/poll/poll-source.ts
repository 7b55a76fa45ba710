/**
 * One poll of one source: the only place that orders list → plan → fetch → parse → emit →
 * commit. Pages are handled one at a time, so memory does not grow with the bucket and the marker
 * moves forward during a long first pull.
 */
import type { ObjectInfo, S3Bucket } from '../aws/types.js';
import type { LoadedSource } from '../config/load.js';
import type { Sink } from '../sinks/types.js';
import type { LedgerRow, Store } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { formatFor } from '../formats/index.js';
import { sourceNamer } from './identifier.js';
import { Deduplicator } from './dedup.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import { listingFor } from './listing.js';
import { discoverPartitions, scopeOf } from './partitions.js';
import { dateSortKey, listInDateOrder } from './date-order.js';
import { SettledKeyWalker } from './settle.js';
import { compileKeyPattern } from '../util/key-pattern.js';
import { skipReason, type SkipReason } from './skip-rules.js';
import { pullObject } from './pull-object.js';
import { ObjectGoneError } from '../aws/classify.js';
import { S3PullError, SinkError, errorMessage, isAbortError } from '../util/errors.js';
import { StateError } from '../state/state-errors.js';
import { hostname } from 'node:os';

export interface PollDependencies {
  store: Store;
  sink: Sink;
  bucket: S3Bucket;
  clock: Clock;
  log: Logger;
  /** One per source, kept across polls so that the rate holds across poll boundaries. */
  throttle?: TokenBucket;
  /** Keys being pulled right now, for the log of a shutdown that had to abandon them. */
  inFlight?: Set<string>;
}

export interface PollObserver {
  onObjectsPlanned?(count: number): void;
  onObjectFinished?(key: string): void;
  onEvents?(count: number): void;
}

/**
 * A throttled or broken download is tried again within the poll this many times, with a doubling
 * pause, resuming after the last delivered batch; after that it waits for the next poll.
 */
const TRANSIENT_RETRIES = 3;
const TRANSIENT_BACKOFF_MS = 1000;

/** How long a poll holds its source before it must renew; it renews with every batch. */
const LEASE_MS = 10 * 60_000;
const LEASE_OWNER = `${hostname()}:${process.pid}`;

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
  errors: string[];
  /** Set when the poll found something the whole service must stop for (the state file replaced). */
  fatal?: string;
}

export async function pollSource(
  source: LoadedSource,
  deps: PollDependencies,
  signal: AbortSignal,
  observer: PollObserver = {},
): Promise<PollResult> {
  const { store, clock } = deps;
  const log = deps.log.child({ source: source.id });
  const result: PollResult = {
    sourceId: source.id,
    status: 'ok',
    objectsDone: 0,
    objectsFailed: 0,
    objectsRetrying: 0,
    objectsSkipped: 0,
    events: 0,
    badLines: 0,
    duplicates: 0,
    errors: [],
  };
  const startedMs = clock.now();
  const sinceMs = source.start === 'beginning' ? null : source.start === 'now' ? startedMs : source.start.since.getTime();
  const opened = store.openSource(source.id, scopeOf(source), sinceMs, startedMs);
  if (opened.previousScope) {
    log.warn('scope changed: marker cleared, everything under the new prefix is pulled', {
      was: opened.previousScope,
      now: scopeOf(source),
    });
  }
  let lease = store.acquireLease(source.id, LEASE_OWNER, startedMs, startedMs + LEASE_MS);
  if (!lease.held && isDeadLocalProcess(lease.owner)) {
    // A poller on this host that died (SIGKILL, power loss) cannot renew: its lease is void now.
    log.warn('taking over the lease of a poller that is gone', { holder: lease.owner });
    store.releaseLease(source.id, lease.owner);
    lease = store.acquireLease(source.id, LEASE_OWNER, startedMs, startedMs + LEASE_MS);
  }
  if (!lease.held) {
    // Another process (the service, or `once`) is polling this source: two pollers would deliver twice.
    const message = `source ${source.id} is being polled by ${lease.owner} (lease until ${new Date(lease.untilMs).toISOString()}); skipped`;
    log.warn('source busy, poll skipped', { holder: lease.owner });
    return { ...result, status: 'busy', errors: [message] };
  }
  const renewLease = () => store.acquireLease(source.id, LEASE_OWNER, clock.now(), clock.now() + LEASE_MS);
  store.recordPollStart(source.id, startedMs);
  const filePattern = compileKeyPattern(source.file_pattern);
  const format = formatFor(source);
  let unmatchedKeys = 0;
  const sourceNameFor = sourceNamer(source, (key) => {
    unmatchedKeys += 1;
    if (unmatchedKeys === 1) log.warn('key does not match identifier_pattern; its events are named after the source id', { key });
  });
  const listing = listingFor(source.listing);
  const throttle = deps.throttle ?? new TokenBucket(source.eps_throttle, clock);
  const dedup = source.dedup ? new Deduplicator(store, source.id, source.dedup.window) : undefined;
  let stopReason: unknown;

  const pullOne = async (object: ObjectInfo, partition: string): Promise<boolean> => {
    for (let retry = 0; ; retry += 1) {
      const finished = await pullOnce(object, partition, retry < TRANSIENT_RETRIES);
      if (finished !== 'again') return finished;
      await clock.sleep(TRANSIENT_BACKOFF_MS * 2 ** retry, signal).catch(() => {});
      if (signal.aborted || stopReason !== undefined) return false;
    }
  };

  /** One try at an object: true when finished (done or quarantined), 'again' to retry now. */
  const pullOnce = async (object: ObjectInfo, partition: string, mayRetry: boolean): Promise<boolean | 'again'> => {
    try {
      const outcome = await pullObject(
        {
          sourceId: source.id,
          sourceNameFor,
          bucket: source.bucket,
          partition,
          formatName: source.format,
          format,
          getter: deps.bucket,
          sink: deps.sink,
          store,
          throttle,
          clock,
          log,
          signal,
          dedup,
          onEvents: (count) => {
            renewLease();
            result.events += count;
            observer.onEvents?.(count);
          },
        },
        object,
      );
      result.objectsDone += 1;
      result.badLines += outcome.badLines;
      result.duplicates += outcome.duplicates;
      log.debug('object done', { key: object.key, events: outcome.events, bad_lines: outcome.badLines });
      return true;
    } catch (error) {
      // Whatever fails while shutting down failed because of the shutdown, not the object.
      // An output or a state file that fails is no object's fault: the poll stops, nothing is marked.
      if (isAbortError(error) || signal.aborted || error instanceof SinkError || error instanceof StateError) {
        stopReason ??= error;
        return false;
      }
      const message = errorMessage(error);
      if (error instanceof ObjectGoneError) {
        store.failObjectAttempt(source.id, object.key, message, 1, clock.now());
        result.objectsFailed += 1;
        log.warn('object gone before it was read', { key: object.key });
        return true;
      }
      if (error instanceof S3PullError && error.retryable) {
        // Throttling and network trouble are never the object's fault: retried, not counted.
        store.noteTransientError(source.id, object.key, message, clock.now());
        if (mayRetry && error.code !== 'S3_OBJECT_CHANGED') {
          log.debug('object download interrupted, trying again', { key: object.key, error: message });
          return 'again';
        }
        result.objectsRetrying += 1;
        result.errors.push(message);
        log.warn('object will be retried', { key: object.key, error: message });
        return false;
      }
      const row = store.failObjectAttempt(source.id, object.key, message, source.max_attempts, clock.now());
      result.errors.push(message);
      if (row.status === 'failed') {
        result.objectsFailed += 1;
        log.error('object failed for good, quarantined', { key: object.key, attempts: row.attempts, error: message });
        return true;
      }
      result.objectsRetrying += 1;
      log.warn('object failed, will be retried', { key: object.key, attempt: row.attempts, of: source.max_attempts, error: message });
      return false;
    }
  };

  /** Pulls objects in key order, `concurrency` at a time; returns which finished. */
  const pullAll = async (objects: ObjectInfo[], partition: string): Promise<Set<string>> => {
    const finished = new Set<string>();
    observer.onObjectsPlanned?.(objects.length);
    let next = 0;
    const worker = async () => {
      while (next < objects.length && stopReason === undefined && !signal.aborted) {
        const object = objects[next]!;
        next += 1;
        deps.inFlight?.add(object.key);
        const done = await pullOne(object, partition).finally(() => deps.inFlight?.delete(object.key));
        observer.onObjectFinished?.(object.key);
        if (done) finished.add(object.key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(source.concurrency, objects.length) }, worker));
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
      if (added.length > 0 && known.length > 0) log.info('new partitions found', { partitions: added.map((p) => p.prefix).join(',') });
    }
    // A reset applies after discovery, so that --after KEY finds the partition KEY is in.
    const reset = store.applyPendingReset(source.id);
    if (reset) log.info('marker reset applied', { reset: JSON.stringify(reset) });
    const startFilterMs = store.getSource(source.id)!.sinceMs;

    for (const partition of store.partitions(source.id)) {
      const prefix = partition.prefix;
      const nowMs = clock.now();
      // Keys compare as text, except where date folders lack their leading zeros (AWS Config).
      const order = (key: string) => (partition.unpaddedDates ? dateSortKey(prefix, key) : key);

      // Objects left in progress below the marker (a reset --after, or a retry) are taken first.
      const leftBehind = store
        .pendingObjects(source.id, prefix)
        .filter((row) => order(row.key) <= order(partition.settledKey) && due(row, nowMs))
        .map(toObjectInfo);
      if (leftBehind.length > 0) await pullAll(leftBehind, prefix);

      const walker = new SettledKeyWalker(nowMs - source.late_window);
      let settled = partition.settledKey;
      const pages =
        partition.unpaddedDates && listing.movesMarker
          ? listInDateOrder(deps.bucket, prefix, partition.settledKey, signal)
          : deps.bucket.listPages(prefix, listing.startAfter(partition.settledKey), signal);
      for await (const page of pages) {
        if (stopReason !== undefined || signal.aborted) break;
        renewLease();
        const known = store.ledger(source.id, page.map((object) => object.key));
        const skipped = new Map<SkipReason, ObjectInfo[]>();
        const toPull: ObjectInfo[] = [];
        const finishedBefore = new Set<string>();
        for (const object of page) {
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
          toPull.push(object);
        }
        for (const [reason, objects] of skipped) {
          store.skipObjects(source.id, prefix, objects, reason, nowMs);
          result.objectsSkipped += objects.length;
        }
        const finishedNow = await pullAll(toPull, prefix);
        for (const object of page) {
          walker.visit(object.key, object.lastModified.getTime(), finishedBefore.has(object.key) || finishedNow.has(object.key));
        }
        // Only forward: a listing from the marker on yields nothing before it, but a guard is cheap.
        if (listing.movesMarker && walker.settledKey && order(walker.settledKey) > order(settled)) {
          settled = walker.settledKey;
          store.setSettledKey(source.id, prefix, settled);
        }
      }
    }
  } catch (error) {
    if (isAbortError(error)) stopReason ??= error;
    else if (error instanceof StateError) stopReason ??= error;
    else {
      result.status = 'failed';
      result.errors.push(errorMessage(error));
      log.error('poll failed', { error: errorMessage(error) });
    }
  }

  if (stopReason !== undefined && result.status !== 'failed') {
    if (stopReason instanceof SinkError) {
      result.status = 'failed';
      result.errors.push(stopReason.message);
      log.error('output failed: source paused, marker kept', { error: stopReason.message });
    } else if (stopReason instanceof StateError) {
      result.status = 'failed';
      result.errors.push(stopReason.message);
      if (stopReason.code === 'STATE_REPLACED') result.fatal = stopReason.message;
      log.error('state file unusable: source paused, nothing committed past the last delivered batch', { error: stopReason.message });
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
      if (pruned > 0) log.debug('ledger history pruned', { rows: pruned });
      if (dedup) dedup.prune(clock.now());
    }
    store.recordPollEnd(source.id, result.status, result.errors[0] ?? null, clock.now());
    store.releaseLease(source.id, LEASE_OWNER);
  } catch (error) {
    // The state file failed after the work was done (or while it failed already): said once.
    const message = errorMessage(error);
    if (!result.errors.includes(message)) {
      result.errors.push(message);
      log.error('state file unusable: the poll could not be recorded', { error: message });
    }
    result.status = 'failed';
    if (error instanceof StateError && error.code === 'STATE_REPLACED') result.fatal = message;
  }
  log.info('poll finished', {
    status: result.status,
    objects: result.objectsDone,
    events: result.events,
    ...(result.duplicates > 0 ? { repeats_dropped: result.duplicates } : {}),
    failed: result.objectsFailed,
    retrying: result.objectsRetrying,
    skipped: result.objectsSkipped,
  });
  return result;
}

function isDeadLocalProcess(owner: string): boolean {
  const separator = owner.lastIndexOf(':');
  const host = owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function due(row: LedgerRow, nowMs: number): boolean {
  return row.nextAttemptMs === null || row.nextAttemptMs <= nowMs;
}

function toObjectInfo(row: LedgerRow): ObjectInfo {
  return { key: row.key, etag: row.etag, size: row.size, lastModified: new Date(row.lastModifiedMs) };
}
