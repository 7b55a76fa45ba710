/**
 * Collection by SQS notification: receives messages, reads which objects they announce, pulls
 * those through the shared object path, and settles each message: deleted only when every object
 * it names is committed (done, skipped or quarantined); while any is in flight its visibility is
 * extended at half the timeout. Several processes (on one host or many) may share one queue:
 * SQS hands each message to one of them at a time, and each keeps its own state.
 */
import { setMaxListeners } from 'node:events';
import { emit } from '../telemetry/events.js';
import type { ObjectGetter, ObjectRef } from '../aws/types.js';
import type { SqsQueue, QueueMessage } from '../aws/sqs-queue.js';
import type { QueuedSource, SqsCollectionConfig } from './options.js';
import type { Sink } from '../sinks/types.js';
import type { Store } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import type { TokenBucket } from '../throttle/token-bucket.js';
import { formatConfigOf, formatFor } from '../formats/index.js';
import { sourceNamer } from '../poll/identifier.js';
import { scopeOf } from '../poll/partitions.js';
import { skipReason } from '../poll/skip-rules.js';
import { compileKeyPattern } from '../util/key-pattern.js';
import { Deduplicator } from '../pipeline/dedup.js';
import type { ParseThreads } from '../pipeline/parse-threads.js';
import { pullObject } from '../pipeline/pull-object.js';
import { ObjectWorker, type ObjectOutcome } from '../pipeline/object-worker.js';
import { LedgerCheckpoint } from '../pipeline/ledger-checkpoint.js';
import { ReceiptInvalidError, S3PullError, SinkError, StateError, errorMessage, isAbortError } from '../util/errors.js';
import { parseNotification, type AnnouncedObject } from './notifications.js';
import { DeleteBatcher } from './delete-batcher.js';

export interface QueueDependencies {
  store: Store;
  sink: Sink;
  queue: SqsQueue;
  getter: ObjectGetter;
  clock: Clock;
  log: Logger;
  throttle: TokenBucket;
  /** Objects being pulled now (s3:// URLs), shared with the reconcile listing of the same source. */
  inFlight?: Set<string>;
  /** Parse threads shared by every source; objects are parsed on the main thread without them. */
  parseThreads?: ParseThreads | undefined;
}

export interface QueueStatistics {
  received: number;
  deleted: number;
  /** Messages whose objects were not all settled, returned to the queue for a later try. */
  returned: number;
  testEvents: number;
  /** Messages of a known shape that announce no created object (deleted). */
  ignored: number;
  /** Messages of no known shape (left for the redrive policy, or moved to the dead-letter queue). */
  unknown: number;
  visibilityExtensions: number;
  objectsDone: number;
  objectsFailed: number;
  objectsSkipped: number;
  objectsRetrying: number;
  events: number;
  badLines: number;
  duplicates: number;
}

export interface QueueRunResult {
  sourceId: string;
  status: 'ok' | 'partial' | 'failed' | 'aborted';
  stats: QueueStatistics;
  errors: string[];
  /** Set when the whole service must stop (the state file was replaced). */
  fatal?: string;
}

/** How long an object that is not the object's fault (throttling, network) waits before its message comes back. */
const TRANSIENT_RETURN_S = 30;
/** How soon a message comes back whose object the reconcile listing is pulling right now. */
const BUSY_RETURN_S = 10;
/** How long receiving waits after SQS itself failed, at first (doubling to 5 minutes). */
const RECEIVE_BACKOFF_MS = 2_000;
const RECEIVE_BACKOFF_MAX_MS = 300_000;
/** While the output is down, objects held in flight are tried again this often, at first (doubling). */
const OUTPUT_BACKOFF_MS = 5_000;
const OUTPUT_BACKOFF_MAX_MS = 300_000;
/** How often the queue's depth is read for `s3pull sources`. */
const STATS_EVERY_MS = 60_000;
/** SQS keeps a message at most 14 days: ledger rows of notified objects are kept that long at least. */
const SQS_MAX_RETENTION_MS = 14 * 86_400_000;
const MAX_VISIBILITY_S = 43_200;
const PRUNE_EVERY_MS = 3_600_000;

export class QueueSource {
  private readonly collection: SqsCollectionConfig;
  private readonly log: Logger;
  private readonly stats: QueueStatistics = {
    received: 0, deleted: 0, returned: 0, testEvents: 0, ignored: 0, unknown: 0, visibilityExtensions: 0,
    objectsDone: 0, objectsFailed: 0, objectsSkipped: 0, objectsRetrying: 0, events: 0, badLines: 0, duplicates: 0,
  };
  private readonly errors: string[] = [];
  private fatal: string | undefined;
  private stateFailed = false;
  private outputDown: Promise<void> | undefined;
  private endOutage: (() => void) | undefined;
  private testEventLogged = false;
  private oldestSentMs: number | null = null;
  private readonly deletions: DeleteBatcher;
  private statsReadMs = 0;
  private prunedMs = 0;
  private startedMs = 0;

  constructor(
    private readonly source: QueuedSource,
    private readonly deps: QueueDependencies,
  ) {
    this.collection = source.collection;
    this.log = deps.log.child({ source: source.id });
    this.deletions = new DeleteBatcher(deps.queue);
  }

  /**
   * Receives and works until `signal` aborts; with `untilEmpty`, until a receive finds the queue
   * empty and every message taken is settled (`s3pull once`).
   */
  async run(signal: AbortSignal, options: { untilEmpty?: boolean } = {}): Promise<QueueRunResult> {
    const { store, clock } = this.deps;
    const source = this.source;
    const startedMs = clock.now();
    this.startedMs = startedMs;
    const sinceMs = source.start === 'beginning' ? null : source.start === 'now' ? startedMs : source.start.since.getTime();
    try {
      store.openSource(source.id, scopeOf(source), sinceMs, startedMs);
      store.recordPollStart(source.id, startedMs);
    } catch (error) {
      return this.finish('failed', error);
    }
    const startFilterMs = store.getSource(source.id)?.sinceMs ?? null;
    const filePattern = compileKeyPattern(source.file_pattern);
    const format = formatFor(source);
    let unmatchedKeyLogged = false;
    const sourceNameFor = sourceNamer(source, (key) => {
      if (!unmatchedKeyLogged) emit(this.log, 'key_unmatched', { key });
      unmatchedKeyLogged = true;
    });
    const dedup = source.dedup ? new Deduplicator(store, source.id, source.dedup.window) : undefined;
    const checkpoint = new LedgerCheckpoint(store, source.id, () => '', source.max_attempts, clock);
    const worker = new ObjectWorker({
      concurrency: source.concurrency,
      clock,
      log: this.log,
      signal,
      inFlight: this.deps.inFlight,
      pull: (object, objectCheckpoint, pullSignal) =>
        pullObject(
          {
            sourceId: source.id,
            sourceNameFor,
            formatConfig: formatConfigOf(source),
            format,
            getter: this.deps.getter,
            sink: this.deps.sink,
            checkpoint: objectCheckpoint,
            throttle: this.deps.throttle,
            clock,
            log: this.log,
            signal: pullSignal,
            dedup,
            maxRecordBytes: source.max_record_bytes,
          hashObjects: source.cloudtrail?.digests === 'verify',
            parseThreads: this.deps.parseThreads,
            onEvents: (count) => {
              this.stats.events += count;
            },
          },
          object,
        ),
    });

    const visibilityS = Math.round(this.collection.visibility_timeout / 1000);
    const waitS = Math.round(this.collection.wait_time / 1000);
    const handling = new Set<Promise<void>>();
    // Each message in flight listens for the stop (its visibility extension, its requests).
    setMaxListeners(this.collection.workers * 4 + 20, signal);
    const aborted = abortPromise(signal);
    this.prunedMs = startedMs;
    // `once` takes what the queue held when it began: on a queue fed without pause, "until
    // empty" alone might never come.
    const budget = options.untilEmpty ? await this.backlog(signal) : Infinity;
    let receiveBackoffMs = RECEIVE_BACKOFF_MS;
    let queueFailing = false;

    const handle = async (message: QueueMessage): Promise<void> => {
      this.stats.received += 1;
      emit(this.log, 'message_received', { message_id: message.messageId });
      this.oldestSentMs = this.oldestSentMs === null ? message.sentMs : Math.min(this.oldestSentMs, message.sentMs);
      const note = parseNotification(message.body);
      switch (note.kind) {
        case 'test':
          this.stats.testEvents += 1;
          if (!this.testEventLogged) emit(this.log, 'test_event', { message_id: message.messageId });
          this.testEventLogged = true;
          await this.settle(message, 'test event');
          return;
        case 'ignored':
          this.stats.ignored += 1;
          emit(this.log, 'message_ignored', { message_id: message.messageId, what: note.what });
          await this.settle(message, 'ignored');
          return;
        case 'unknown':
          this.stats.unknown += 1;
          await this.unknownMessage(message, note.reason, signal);
          return;
        case 'objects':
          await this.pullAnnounced(message, note.objects, signal, { worker, checkpoint, filePattern, startFilterMs, visibilityS });
          return;
      }
    };

    try {
      while (!signal.aborted && this.fatal === undefined && !this.stateFailed) {
        if (this.outputDown) {
          // No message is taken that could not be delivered: receiving waits for the output.
          await Promise.race([this.outputDown, aborted]);
          continue;
        }
        if (this.stats.received >= budget) {
          if (handling.size === 0) break;
          await Promise.race([...handling, aborted]);
          continue;
        }
        if (handling.size >= this.collection.workers) {
          await Promise.race([...handling, aborted]);
          continue;
        }
        let messages: QueueMessage[];
        try {
          messages = await this.deps.queue.receive(Math.min(this.collection.max_messages, this.collection.workers - handling.size), waitS, visibilityS, signal);
          if (queueFailing) emit(this.log, 'queue_reachable', { queue: this.deps.queue.url });
          queueFailing = false;
          receiveBackoffMs = RECEIVE_BACKOFF_MS;
        } catch (error) {
          if (signal.aborted || isAbortError(error)) break;
          const message = errorMessage(error);
          if (!queueFailing) {
            emit(this.log, 'queue_unreachable', { queue: this.deps.queue.url, error: message, retry_in_s: receiveBackoffMs / 1000 });
            this.errors.push(message);
          }
          queueFailing = true;
          if (options.untilEmpty) break;
          await clock.sleep(receiveBackoffMs, signal).catch(() => {});
          receiveBackoffMs = Math.min(receiveBackoffMs * 2, RECEIVE_BACKOFF_MAX_MS);
          continue;
        }
        for (const message of messages) {
          const work: Promise<void> = handle(message)
            .catch((error: unknown) => this.noteFailure(error))
            .finally(() => handling.delete(work));
          handling.add(work);
        }
        await this.readQueueStats(signal);
        // A service receives for months: its ledger is pruned as it goes, not when it stops.
        if (clock.now() - this.prunedMs >= PRUNE_EVERY_MS) this.prune(dedup);
        if (options.untilEmpty && messages.length === 0) {
          if (handling.size === 0) break;
          await Promise.race([...handling, aborted]);
        }
      }
    } finally {
      await Promise.allSettled([...handling]);
    }
    if (!signal.aborted) {
      // The queue as `once` leaves it, for `s3pull sources` (a stopping service does not wait for SQS).
      this.statsReadMs = 0;
      await this.readQueueStats(AbortSignal.timeout(5_000));
    }
    if (!this.stateFailed) this.prune(dedup);
    const status = this.fatal !== undefined || this.stateFailed || (queueFailing && options.untilEmpty) ? 'failed' : signal.aborted && !options.untilEmpty ? 'aborted' : this.stats.objectsFailed > 0 || this.stats.objectsRetrying > 0 ? 'partial' : 'ok';
    return this.finish(status);
  }

  /** Forgets ledger rows and dedup keys past their retention (rows below a reconcile marker go with the listing's own pruning). */
  private prune(dedup: Deduplicator | undefined): void {
    const { store, clock } = this.deps;
    this.prunedMs = clock.now();
    try {
      store.pruneHistory(this.source.id, clock.now() - this.source.history_retention, () => false, clock.now() - Math.max(this.source.history_retention, SQS_MAX_RETENTION_MS));
      dedup?.prune(clock.now());
    } catch (error) {
      this.noteFailure(error);
    }
  }

  private finish(status: QueueRunResult['status'], error?: unknown): QueueRunResult {
    if (error !== undefined) this.noteFailure(error);
    try {
      this.deps.store.recordPollEnd(this.source.id, status, this.errors[0] ?? null, this.deps.clock.now());
    } catch (recordError) {
      this.noteFailure(recordError);
    }
    emit(this.log, 'queue_finished', {
      status,
      messages: this.stats.received,
      deleted: this.stats.deleted,
      objects: this.stats.objectsDone,
      events: this.stats.events,
      failed: this.stats.objectsFailed,
      skipped: this.stats.objectsSkipped,
      seconds: (this.deps.clock.now() - this.startedMs) / 1000,
    });
    return { sourceId: this.source.id, status, stats: { ...this.stats }, errors: [...this.errors], ...(this.fatal ? { fatal: this.fatal } : {}) };
  }

  private noteFailure(error: unknown): void {
    const message = errorMessage(error);
    if (error instanceof StateError) {
      if (!this.stateFailed) emit(this.log, 'state_unusable', { error: message, queue: true });
      this.stateFailed = true;
      if (error.code === 'STATE_REPLACED') this.fatal = message;
    } else if (!isAbortError(error)) {
      emit(this.log, 'message_failed', { error: message });
    }
    if (!this.errors.includes(message) && !isAbortError(error)) this.errors.push(message);
  }

  private async pullAnnounced(
    message: QueueMessage,
    announced: AnnouncedObject[],
    signal: AbortSignal,
    tools: { worker: ObjectWorker; checkpoint: LedgerCheckpoint; filePattern: ReturnType<typeof compileKeyPattern>; startFilterMs: number | null; visibilityS: number },
  ): Promise<void> {
    const { store, clock } = this.deps;
    const source = this.source;
    const nowMs = clock.now();
    const toPull: AnnouncedObject[] = [];
    /** Seconds until the earliest object not yet due may be tried (it failed lately). */
    let notDueS: number | undefined;
    for (const object of announced) {
      const reason = this.filterReason(object, tools.filePattern, tools.startFilterMs);
      if (reason) {
        store.skipObjects(source.id, '', [object], reason, nowMs);
        this.stats.objectsSkipped += 1;
        emit(this.log, 'objects_skipped', { reason, count: 1 });
        continue;
      }
      const row = store.ledger(source.id, object.bucket, [object.key]).get(object.key);
      // Done, quarantined or skipped before (a redelivered message, or reconcile was first): settled.
      if (row && row.status !== 'in_progress') continue;
      if (row?.nextAttemptMs != null && row.nextAttemptMs > nowMs) {
        notDueS = Math.min(notDueS ?? Infinity, Math.ceil((row.nextAttemptMs - nowMs) / 1000));
        continue;
      }
      toPull.push(object);
    }

    const extending = toPull.length > 0 ? this.extendVisibility(message, tools.visibilityS, signal) : undefined;
    let returnAfterS = notDueS;
    try {
      const outcomes = await Promise.all(toPull.map((object) => this.pullHeld(object, tools.worker, tools.checkpoint, signal)));
      for (const [index, outcome] of outcomes.entries()) {
        const wait = this.waitAfter(toPull[index]!, outcome);
        if (wait !== undefined) returnAfterS = Math.min(returnAfterS ?? Infinity, wait);
        if (outcome.status === 'stopped') returnAfterS ??= -1;
      }
    } finally {
      extending?.stop();
    }
    if (returnAfterS === undefined) {
      await this.settle(message, 'objects committed');
      return;
    }
    if (signal.aborted || this.stateFailed || returnAfterS < 0) return; // comes back when its visibility runs out
    this.stats.returned += 1;
    const afterS = Math.min(MAX_VISIBILITY_S, Math.max(0, returnAfterS));
    emit(this.log, 'message_returned', { message_id: message.messageId, after_s: afterS });
    await this.deps.queue.changeVisibility(message.receiptHandle, afterS).catch((error: unknown) => {
      emit(this.log, 'message_not_returned', { message_id: message.messageId, error: errorMessage(error) });
    });
  }

  /** Why an announced object is not pulled, if it is not; the same rules as a listing, and the source's filters. */
  private filterReason(object: AnnouncedObject, filePattern: ReturnType<typeof compileKeyPattern>, startFilterMs: number | null): string | undefined {
    const buckets = this.collection.buckets;
    if (buckets && !buckets.includes(object.bucket)) return 'bucket';
    if (this.source.prefix !== '' && !object.key.startsWith(this.source.prefix)) return 'prefix';
    // A size of -1 is unknown (CloudTrail's notification gives none): never read as empty.
    return skipReason(object.size < 0 ? { ...object, size: 1 } : object, filePattern, startFilterMs);
  }

  /**
   * Seconds until the message should come back for this object, or undefined when the object is
   * settled. An object rewritten since it was announced is settled too: the new version has a
   * notification of its own.
   */
  private waitAfter(object: ObjectRef, outcome: ObjectOutcome): number | undefined {
    switch (outcome.status) {
      case 'done':
        this.stats.objectsDone += 1;
        this.stats.badLines += outcome.outcome.badLines;
        this.stats.duplicates += outcome.outcome.duplicates;
        return undefined;
      case 'quarantined':
        this.stats.objectsFailed += 1;
        if (!this.errors.includes(outcome.error)) this.errors.push(outcome.error);
        return undefined;
      case 'retry_later':
        if (outcome.changed) {
          emit(this.log, 'object_rewritten', { key: object.key });
          return undefined;
        }
        this.stats.objectsRetrying += 1;
        if (!this.errors.includes(outcome.error)) this.errors.push(outcome.error);
        return outcome.nextAttemptMs !== null ? Math.ceil((outcome.nextAttemptMs - this.deps.clock.now()) / 1000) : TRANSIENT_RETURN_S;
      case 'stopped':
        return undefined;
      case 'busy':
        // The reconcile listing has it: when the message comes back, the ledger says it is done.
        return BUSY_RETURN_S;
    }
  }

  /**
   * Pulls one object; while the output is down the object is held (its message stays in flight
   * and is extended) and tried again with a doubling pause, and receiving waits.
   */
  private async pullHeld(object: AnnouncedObject, worker: ObjectWorker, checkpoint: LedgerCheckpoint, signal: AbortSignal): Promise<ObjectOutcome> {
    let backoffMs = OUTPUT_BACKOFF_MS;
    for (;;) {
      let outcome = await worker.pull(object, checkpoint);
      if (outcome.status === 'quarantined' && outcome.gone && object.alternateKey) {
        // The key's other reading, in case the producer encoded it otherwise. Only one of the two
        // readings keeps a ledger row: the one that named the object, else the first.
        const other = { ...object, key: object.alternateKey, alternateKey: undefined };
        const alternate = await worker.pull(other, checkpoint);
        const otherGone = alternate.status === 'quarantined' && alternate.gone;
        if (alternate.status !== 'busy' && alternate.status !== 'stopped') this.deps.store.forgetObject(this.source.id, otherGone ? other : object);
        if (!otherGone) outcome = alternate;
      }
      if (outcome.status !== 'stopped' || signal.aborted) {
        if (outcome.status === 'done' && this.endOutage) this.outputBack();
        return outcome;
      }
      const reason = worker.stopReason;
      if (reason instanceof StateError || !(reason instanceof S3PullError)) {
        this.noteFailure(reason);
        return outcome;
      }
      this.outputFailed(reason);
      await this.deps.clock.sleep(backoffMs, signal).catch(() => {});
      backoffMs = Math.min(backoffMs * 2, OUTPUT_BACKOFF_MAX_MS);
      if (signal.aborted) return { status: 'stopped' };
      worker.resume();
    }
  }

  private outputFailed(error: S3PullError): void {
    if (this.outputDown) return;
    this.outputDown = new Promise<void>((resolve) => (this.endOutage = resolve));
    const message = errorMessage(error);
    if (!this.errors.includes(message)) this.errors.push(message);
    emit(this.log, 'output_failed', { error: message, ...(error instanceof SinkError ? {} : { code: error.code }), receiving: true });
  }

  private outputBack(): void {
    emit(this.log, 'output_receiving_back', {});
    const end = this.endOutage;
    this.outputDown = undefined;
    this.endOutage = undefined;
    end?.();
  }

  /** Extends the message's visibility at half the timeout until stopped. */
  private extendVisibility(message: QueueMessage, visibilityS: number, signal: AbortSignal): { stop(): void } {
    const controller = new AbortController();
    const stopAll = () => controller.abort();
    signal.addEventListener('abort', stopAll, { once: true });
    void (async () => {
      for (;;) {
        await this.deps.clock.sleep((visibilityS * 1000) / 2, controller.signal).catch(() => {});
        if (controller.signal.aborted) return;
        try {
          await this.deps.queue.changeVisibility(message.receiptHandle, visibilityS, controller.signal);
          this.stats.visibilityExtensions += 1;
          emit(this.log, 'visibility_extended', { message_id: message.messageId, visibility_s: visibilityS });
        } catch (error) {
          if (controller.signal.aborted) return;
          if (error instanceof ReceiptInvalidError) {
            emit(this.log, 'visibility_lost', { message_id: message.messageId, error: error.message });
            return;
          }
          emit(this.log, 'visibility_extension_failed', { message_id: message.messageId, error: errorMessage(error) });
        }
      }
    })();
    return {
      stop: () => {
        signal.removeEventListener('abort', stopAll);
        controller.abort();
      },
    };
  }

  private async settle(message: QueueMessage, why: string): Promise<void> {
    try {
      await this.deletions.delete(message.receiptHandle);
      this.stats.deleted += 1;
      emit(this.log, 'message_deleted', { message_id: message.messageId, why });
    } catch (error) {
      // The objects are committed: a message that comes back again is deleted then, at once.
      emit(this.log, 'message_delete_failed', { message_id: message.messageId, why, error: errorMessage(error) });
    }
  }

  private async unknownMessage(message: QueueMessage, reason: string, signal: AbortSignal): Promise<void> {
    const firstBytes = message.body.slice(0, 200);
    const dlq = this.collection.dead_letter_queue_url;
    if (dlq) {
      try {
        await this.deps.queue.send(dlq, message.body, signal);
        await this.settle(message, 'moved to the dead-letter queue');
        emit(this.log, 'message_dead_lettered', { message_id: message.messageId, reason, first_bytes: firstBytes, dead_letter_queue: dlq });
        return;
      } catch (error) {
        emit(this.log, 'message_dead_letter_refused', { message_id: message.messageId, error: errorMessage(error) });
      }
    }
    emit(this.log, 'message_not_understood', { message_id: message.messageId, reason, first_bytes: firstBytes });
  }

  /** The messages the queue holds now, visible, in flight or delayed; unbounded when it cannot say. */
  private async backlog(signal: AbortSignal): Promise<number> {
    try {
      const attributes = await this.deps.queue.attributes(signal);
      return attributes.messages + attributes.messagesInFlight + attributes.messagesDelayed;
    } catch {
      return Infinity;
    }
  }

  private async readQueueStats(signal: AbortSignal): Promise<void> {
    const nowMs = this.deps.clock.now();
    if (nowMs - this.statsReadMs < STATS_EVERY_MS) return;
    this.statsReadMs = nowMs;
    try {
      const attributes = await this.deps.queue.attributes(signal);
      this.deps.store.recordQueueStats(this.source.id, { messages: attributes.messages, inFlight: attributes.messagesInFlight, oldestSentMs: this.oldestSentMs, checkedMs: nowMs });
      this.oldestSentMs = null;
    } catch (error) {
      if (error instanceof StateError) this.noteFailure(error);
      else emit(this.log, 'queue_attributes_not_read', { error: errorMessage(error) });
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
