/**
 * One runner per collection mode, behind one interface: the scheduled poll of a prefix, and the
 * continuous receive of an SQS queue (with its optional reconcile listing). The collector holds
 * one per source and knows nothing else of the modes.
 */
import { DIGEST_CHECK_INTERVAL_MS } from '../digest/digest-poll.js';
import type { LoadedSource } from '../config/load.js';
import { emit } from '../telemetry/events.js';
import type { S3Bucket } from '../aws/types.js';
import type { S3Clients } from '../aws/s3-clients.js';
import type { SqsQueue } from '../aws/sqs-queue.js';
import type { Sink } from '../sinks/types.js';
import type { Store } from '../state/types.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import type { ParseThreads } from '../pipeline/parse-threads.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import { scheduleFor, type Schedule } from '../schedule/schedule.js';
import { emptyPollResult, pollSource, type PollDependencies, type PollResult } from '../poll/poll-source.js';
import { QueueSource, type QueueRunResult } from '../queue/queue-source.js';
import type { QueuedSource } from '../queue/options.js';
import { S3PullError, StateError, errorMessage } from '../util/errors.js';
import { SilenceWatch } from '../poll/silence.js';
import { formatDuration } from '../util/duration.js';
import { MINUTE_MS } from '../util/schema-parts.js';

export interface RunnerContext {
  store: Store;
  /** The output in effect now (it may be swapped on reload). */
  sink: () => Sink;
  log: Logger;
  clock: Clock;
  /** Shared by every source of the process; absent: objects are parsed on the main thread. */
  parseThreads?: ParseThreads | undefined;
  /** CloudTrail's public keys for this source's digest check (`cloudtrail.digests: verify`). */
  digestKeys?: PollDependencies['digestKeys'];
  digestCheckEveryMs?: number | undefined;
  onFinished?: (result: PollResult) => void;
}

export interface SourceRunner {
  readonly source: LoadedSource;
  /** Runs on the source's schedule (a poll) or continuously (a queue). */
  start(): void;
  /** One run now: a poll, or a queue drained until a receive finds it empty. */
  runOnce(): Promise<PollResult>;
  /** Stops scheduling and lets the work in flight checkpoint at its next batch. */
  stop(): Promise<void>;
  /** Waits for the run in flight, if any (a poll); a queue runner is restarted instead. */
  readonly continuous: boolean;
  idle(): Promise<void>;
  /** The objects being pulled now, as s3:// URLs. */
  inFlight(): string[];
  nextRunMs(): number | null;
  destroy(): void;
}

function failedResult(source: LoadedSource, error: unknown, log: Logger): PollResult {
  // A bug or a broken state file in one source must not stop the others.
  const known = error instanceof S3PullError;
  emit(log, 'poll_broke_off', { source: source.id, error: errorMessage(error), crashed: !known });
  return {
    ...emptyPollResult(source.id, 'failed'),
    ...(error instanceof StateError && error.code === 'STATE_REPLACED' ? { fatal: error.message } : {}),
    errors: [errorMessage(error)],
  };
}

/** After each poll (a queue source's reconcile listing too): partitions that fell silent (a warning) or delivered again (a note), once each. */
function reportSilence(source: LoadedSource, watch: SilenceWatch, context: RunnerContext): void {
  const within = source.expect_objects_within;
  if (within === undefined) return;
  const nowMs = context.clock.now();
  try {
    const { began, ended } = watch.update(context.store.partitions(source.id), within, nowMs);
    for (const silence of began) {
      emit(context.log, 'partition_silent', {
        source: source.id,
        partition: silence.prefix || '/',
        newest_object: new Date(silence.newestObjectMs).toISOString(),
        silent_for: formatDuration(Math.floor(silence.silentForMs / MINUTE_MS) * MINUTE_MS),
        expected_within: formatDuration(within),
      });
    }
    for (const prefix of ended) emit(context.log, 'partition_delivering', { source: source.id, partition: prefix || '/' });
  } catch (error) {
    // The state file's own failure is the poll's to report; silence is checked again next time.
    emit(context.log, 'silence_not_checked', { source: source.id, error: errorMessage(error) });
  }
}

/** Collection by prefix: a poll on the source's schedule, never two at once. */
export class PollRunner implements SourceRunner {
  readonly continuous = false;
  private schedule?: Schedule;
  private controller = new AbortController();
  private running?: Promise<PollResult>;
  private readonly keys = new Set<string>();
  private readonly throttle: TokenBucket;
  private readonly silence = new SilenceWatch();

  constructor(
    readonly source: LoadedSource,
    private readonly bucket: S3Bucket,
    private readonly context: RunnerContext,
  ) {
    this.throttle = new TokenBucket(source.eps_throttle, context.clock);
  }

  start(): void {
    if (!this.source.enabled) return;
    this.schedule = scheduleFor(this.source);
    this.schedule.start(async () => {
      await this.runOnce();
      this.context.store.recordNextPoll(this.source.id, this.schedule?.nextRunMs() ?? null);
    });
    emit(this.context.log, 'source_scheduled', { source: this.source.id, schedule: this.schedule.description });
  }

  async runOnce(): Promise<PollResult> {
    if (this.running) return this.running;
    const deps = {
      store: this.context.store,
      sink: this.context.sink(),
      parseThreads: this.context.parseThreads,
      digestKeys: this.context.digestKeys,
      digestCheckEveryMs: this.context.digestCheckEveryMs,
      bucket: this.bucket,
      clock: this.context.clock,
      log: this.context.log,
      throttle: this.throttle,
      inFlight: this.keys,
    };
    this.running = pollSource(this.source, deps, this.controller.signal)
      .catch((error: unknown) => failedResult(this.source, error, this.context.log))
      .finally(() => {
        this.running = undefined;
      });
    const result = await this.running;
    this.reportSilence();
    this.context.onFinished?.(result);
    return result;
  }

  private reportSilence(): void {
    reportSilence(this.source, this.silence, this.context);
  }

  async stop(): Promise<void> {
    this.schedule?.stop();
    this.controller.abort();
    await this.running?.catch(() => {});
    if (this.schedule) this.context.store.recordNextPoll(this.source.id, null);
  }

  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }

  inFlight(): string[] {
    return [...this.keys];
  }

  nextRunMs(): number | null {
    return this.schedule?.nextRunMs() ?? null;
  }

  destroy(): void {
    this.bucket.destroy();
  }
}

/** How long a queue runner whose receiving ended on a failure waits before it starts again. */
const RESTART_AFTER_MS = 30_000;

/** How long after its LastModified reconcile leaves an object to its notification. */
export const RECONCILE_GRACE_MS = 15 * 60_000;

/**
 * Collection by SQS notification: receives continuously while started; with `reconcile`, also
 * polls the prefix on that interval, sharing the objects in flight so that an object announced
 * and listed at once is pulled once.
 */
export class QueueRunner implements SourceRunner {
  readonly continuous = true;
  private controller = new AbortController();
  private receiving?: Promise<QueueRunResult>;
  private reconcile?: Schedule;
  private reconciling?: Promise<PollResult>;
  private readonly keys = new Set<string>();
  private readonly throttle: TokenBucket;
  private readonly silence = new SilenceWatch();

  constructor(
    readonly source: LoadedSource & QueuedSource,
    private readonly queue: SqsQueue,
    /** Reads the announced objects, of any bucket; its client of the source's bucket lists for reconcile. */
    private readonly clients: S3Clients,
    private readonly context: RunnerContext,
  ) {
    this.throttle = new TokenBucket(source.eps_throttle, context.clock);
    this.bucket = source.bucket ? clients.bucket(source.bucket) : undefined;
  }

  private readonly bucket: S3Bucket | undefined;

  private get collection() {
    return this.source.collection;
  }

  start(): void {
    if (!this.source.enabled) return;
    this.controller = new AbortController();
    const signal = this.controller.signal;
    // Receiving ends only with the runner: after a failure that paused it (the state file could
    // not be written), it starts again after a pause, as the next poll of a prefix source would.
    this.receiving = (async () => {
      for (;;) {
        const result = await this.receive({});
        if (signal.aborted || result.fatal) return result;
        emit(this.context.log, 'receiving_paused', { source: this.source.id, error: result.errors[0] ?? '-' });
        await this.context.clock.sleep(RESTART_AFTER_MS, signal).catch(() => {});
        if (signal.aborted) return result;
      }
    })().finally(() => {
      this.receiving = undefined;
    });
    emit(this.context.log, 'source_receiving', { source: this.source.id, queue: this.collection.queue_url, ...(this.collection.reconcile ? { reconcile_every_s: this.collection.reconcile / 1000 } : {}) });
    const bucket = this.bucket;
    if (this.collection.reconcile && bucket) {
      this.reconcile = scheduleFor({ recurrence: this.collection.reconcile, schedule: undefined });
      this.reconcile.start(async () => {
        await this.reconcileOnce(bucket);
      });
    } else if (this.checksDigestsOnly && bucket) {
      // No reconcile listing to check the digests: a poll that lists only partitions and digests.
      this.reconcile = scheduleFor({ recurrence: DIGEST_CHECK_INTERVAL_MS, schedule: undefined });
      this.reconcile.start(async () => {
        await this.reconcileOnce(bucket);
      });
    }
  }

  private async receive(options: { untilEmpty?: boolean }): Promise<QueueRunResult> {
    const source = new QueueSource(this.source, {
      store: this.context.store,
      sink: this.context.sink(),
      parseThreads: this.context.parseThreads,
      queue: this.queue,
      getter: this.clients,
      clock: this.context.clock,
      log: this.context.log,
      throttle: this.throttle,
      inFlight: this.keys,
    });
    let result: QueueRunResult;
    try {
      result = await source.run(this.controller.signal, options);
    } catch (error) {
      const failed = failedResult(this.source, error, this.context.log);
      result = { sourceId: this.source.id, status: 'failed', stats: emptyStats(), errors: failed.errors, ...(failed.fatal ? { fatal: failed.fatal } : {}) };
    }
    this.context.onFinished?.(asPollResult(result));
    return result;
  }

  /** An SQS source without reconcile whose CloudTrail digests are verified (the config then requires a bucket). */
  private get checksDigestsOnly(): boolean {
    return !this.collection.reconcile && this.source.cloudtrail?.digests === 'verify';
  }

  /** Only with a bucket (the config requires one for reconcile and for digests). */
  private async reconcileOnce(bucket: S3Bucket): Promise<PollResult> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = pollSource(
      this.source,
      {
        store: this.context.store,
        sink: this.context.sink(),
        parseThreads: this.context.parseThreads,
        digestKeys: this.context.digestKeys,
        digestCheckEveryMs: this.context.digestCheckEveryMs,
        bucket,
        getter: this.clients,
        clock: this.context.clock,
        log: this.context.log.child({ reconcile: true }),
        throttle: this.throttle,
        inFlight: this.keys,
        youngestMs: RECONCILE_GRACE_MS,
        digestsOnly: this.checksDigestsOnly,
      },
      this.controller.signal,
    )
      .catch((error: unknown) => failedResult(this.source, error, this.context.log))
      .finally(() => {
        this.reconciling = undefined;
      });
    const result = await this.reconciling;
    // The partitions are the reconcile listing's; the queue's objects keep them current.
    reportSilence(this.source, this.silence, this.context);
    this.context.onFinished?.(result);
    return result;
  }

  async runOnce(): Promise<PollResult> {
    const received = asPollResult(await this.receive({ untilEmpty: true }));
    if ((!this.collection.reconcile && !this.checksDigestsOnly) || !this.bucket) return received;
    const listed = await this.reconcileOnce(this.bucket);
    return mergeResults(received, listed);
  }

  async stop(): Promise<void> {
    this.reconcile?.stop();
    this.controller.abort();
    await Promise.all([this.receiving?.catch(() => {}), this.reconciling?.catch(() => {})]);
  }

  async idle(): Promise<void> {
    await this.reconciling?.catch(() => {});
  }

  inFlight(): string[] {
    return [...this.keys];
  }

  nextRunMs(): number | null {
    return this.reconcile?.nextRunMs() ?? null;
  }

  destroy(): void {
    this.queue.destroy();
    this.clients.destroy();
  }
}

function emptyStats(): QueueRunResult['stats'] {
  return { received: 0, deleted: 0, returned: 0, testEvents: 0, ignored: 0, unknown: 0, visibilityExtensions: 0, objectsDone: 0, objectsFailed: 0, objectsSkipped: 0, objectsRetrying: 0, events: 0, badLines: 0, duplicates: 0 };
}

export function asPollResult(result: QueueRunResult): PollResult {
  const { stats } = result;
  return {
    sourceId: result.sourceId,
    status: result.status,
    objectsDone: stats.objectsDone,
    objectsFailed: stats.objectsFailed,
    objectsRetrying: stats.objectsRetrying,
    objectsSkipped: stats.objectsSkipped,
    events: stats.events,
    badLines: stats.badLines,
    duplicates: stats.duplicates,
    errors: result.errors,
    messages: { received: stats.received, deleted: stats.deleted, returned: stats.returned },
    ...(result.fatal ? { fatal: result.fatal } : {}),
  };
}

function mergeResults(a: PollResult, b: PollResult): PollResult {
  const rank = ['ok', 'partial', 'aborted', 'busy', 'failed'] as const;
  return {
    ...a,
    status: rank[Math.max(rank.indexOf(a.status), rank.indexOf(b.status))]!,
    objectsDone: a.objectsDone + b.objectsDone,
    objectsFailed: a.objectsFailed + b.objectsFailed,
    objectsRetrying: a.objectsRetrying + b.objectsRetrying,
    objectsSkipped: a.objectsSkipped + b.objectsSkipped,
    events: a.events + b.events,
    badLines: a.badLines + b.badLines,
    duplicates: a.duplicates + b.duplicates,
    errors: [...a.errors, ...b.errors],
    // The digest check runs in the listing (reconcile's, or the digests-only poll): its counts stay.
    ...(a.objectsRecovered !== undefined || b.objectsRecovered !== undefined ? { objectsRecovered: (a.objectsRecovered ?? 0) + (b.objectsRecovered ?? 0) } : {}),
    ...(a.digestProblems !== undefined || b.digestProblems !== undefined ? { digestProblems: (a.digestProblems ?? 0) + (b.digestProblems ?? 0) } : {}),
    ...(a.fatal || b.fatal ? { fatal: (a.fatal ?? b.fatal)! } : {}),
  };
}
