/**
 * The collector: one runner per source (a poll runner or a queue runner, with its clients and
 * throttle), one shared sink and store. Used by `run` (scheduled, with reload) and `once` (one
 * run now). One failing source never stops another: each run is awaited on its own and its
 * errors end in its result.
 */
import { publicKeysFor } from '../digest/public-keys.js';
import type { LoadedConfig, LoadedSource } from '../config/load.js';
import { emit } from '../telemetry/events.js';
import type { S3Bucket } from '../aws/types.js';
import type { Sink } from '../sinks/types.js';
import type { Store } from '../state/types.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { createS3Bucket, s3BucketOptionsFor } from '../aws/s3-bucket.js';
import { S3Clients } from '../aws/s3-clients.js';
import { createSqsQueue, regionOfQueueUrl, type SqsQueue } from '../aws/sqs-queue.js';
import { secretsOf } from '../aws/credentials.js';
import type { PollResult } from '../poll/poll-source.js';
import { PollRunner, QueueRunner, type SourceRunner } from './runners.js';
import { isQueued, type QueuedSource } from '../queue/options.js';
import { ParseThreads, parseThreadCount } from '../pipeline/parse-threads.js';
import { errorMessage } from '../util/errors.js';
import { requestCounts } from '../aws/request-counts.js';

/** How often the service stores its AWS request counts (and when it stops). */
const REQUEST_FLUSH_MS = 60_000;

export type BucketFactory = (source: LoadedSource, ca: string[] | undefined) => S3Bucket;

export const defaultBucketFactory: BucketFactory = (source, ca) => createS3Bucket(s3BucketOptionsFor(source, ca));

export type QueueFactory = (source: LoadedSource & QueuedSource, ca: string[] | undefined) => SqsQueue;

/** The queue of an SQS source, with its own credentials where it has them. */
export const defaultQueueFactory: QueueFactory = (source, ca) => {
  const collection = source.collection;
  const fromUrl = regionOfQueueUrl(collection.queue_url);
  const region = collection.region ?? fromUrl ?? (source.region === 'auto' ? 'us-east-1' : source.region);
  // A queue URL that is not AWS's (a local queue) is its own endpoint.
  const endpoint = collection.endpoint ?? (fromUrl ? undefined : new URL(collection.queue_url).origin);
  return createSqsQueue({ url: collection.queue_url, region, endpoint, auth: collection.auth ?? source.auth, proxy: source.proxy, ca, requestTimeoutMs: source.request_timeout, sourceId: source.id });
};

export interface CollectorOptions {
  store: Store;
  sink: Sink;
  log: Logger;
  clock: Clock;
  bucketFactory?: BucketFactory;
  queueFactory?: QueueFactory;
  onPollFinished?: (result: PollResult) => void;
  /** Check CloudTrail digests at every poll (`once`), not at most once an hour (the service). */
  digestsEveryPoll?: boolean;
}

export class Collector {
  private readonly runners = new Map<string, SourceRunner>();
  /** Runners whose work may still run: those removed while stopping stay until it ends. */
  private readonly live = new Set<SourceRunner>();
  private readonly bucketFactory: BucketFactory;
  private readonly queueFactory: QueueFactory;
  private scheduled = false;
  private readonly parseThreads: ParseThreads | undefined;
  private requestFlush: NodeJS.Timeout | undefined;

  constructor(
    private config: LoadedConfig,
    private readonly options: CollectorOptions,
  ) {
    this.bucketFactory = options.bucketFactory ?? defaultBucketFactory;
    this.queueFactory = options.queueFactory ?? defaultQueueFactory;
    const threads = parseThreadCount(config.collector.parse_threads);
    this.parseThreads = threads > 0 ? new ParseThreads(threads) : undefined;
    for (const source of config.sources) this.add(source);
  }

  get sources(): LoadedSource[] {
    return [...this.runners.values()].map((runner) => runner.source);
  }

  /** One run of the given sources (all enabled ones by default), concurrently. */
  async pollNow(ids: string[] = []): Promise<PollResult[]> {
    const selected = ids.length > 0 ? ids.map((id) => this.runners.get(id)!) : [...this.runners.values()].filter((r) => r.source.enabled);
    try {
      return await Promise.all(selected.map((runner) => runner.runOnce()));
    } finally {
      this.flushRequests();
    }
  }

  /** Schedules every enabled source (a queue source starts receiving). */
  start(): void {
    this.scheduled = true;
    // The threads start with the service, not under its first objects.
    this.parseThreads?.warm().catch((error: unknown) => emit(this.options.log, 'parse_threads_failed', { error: errorMessage(error) }));
    for (const runner of this.runners.values()) runner.start();
    this.requestFlush = setInterval(() => this.flushRequests(), REQUEST_FLUSH_MS);
    this.requestFlush.unref();
  }

  /** Applies a new config: added, removed and changed sources; the rest keep running. */
  async reload(next: LoadedConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const nextById = new Map(next.sources.map((source) => [source.id, source]));
    // New certificates in certs_dir change how every source connects.
    const trustChanged = JSON.stringify(next.trust.ca) !== JSON.stringify(this.config.trust.ca);
    this.config = next;
    for (const [id, runner] of this.runners) {
      const replacement = nextById.get(id);
      if (!replacement) {
        removed.push(id);
        await this.remove(id);
      } else if (trustChanged || JSON.stringify(replacement) !== JSON.stringify(runner.source)) {
        changed.push(id);
        await this.remove(id);
      }
    }
    for (const source of next.sources) {
      if (!this.runners.has(source.id)) {
        if (!changed.includes(source.id)) added.push(source.id);
        const runner = this.add(source);
        if (this.scheduled) runner.start();
      }
    }
    return { added, removed, changed };
  }

  /**
   * Sends the next runs to another output. Polls in flight finish on the output they began with;
   * queue runners are restarted on the new one (their messages in flight come back to the queue
   * or are resumed from the ledger). The old output is returned once nothing uses it.
   */
  async replaceSink(next: Sink): Promise<Sink> {
    const previous = this.options.sink;
    this.options.sink = next;
    const restart = [...this.runners.values()].filter((runner) => runner.continuous && this.scheduled);
    await Promise.all(restart.map((runner) => runner.stop()));
    await Promise.all([...this.runners.values()].map((runner) => runner.idle()));
    for (const runner of restart) runner.start();
    return previous;
  }

  /** Stops scheduling, lets work in flight checkpoint at its next batch, and waits for it. */
  async stop(): Promise<void> {
    this.scheduled = false;
    await Promise.all([...this.runners.keys()].map((id) => this.remove(id)));
    await this.parseThreads?.close();
    clearInterval(this.requestFlush);
    this.flushRequests();
  }

  /** Moves the AWS requests counted so far into the state file, where `sources` reads them. */
  private flushRequests(): void {
    try {
      this.options.store.addRequests(requestCounts.drain());
    } catch (error) {
      emit(this.options.log, 'requests_not_stored', { error: errorMessage(error) });
    }
  }

  /** The objects being pulled now, as s3:// URLs with their source. */
  inFlight(): string[] {
    return [...this.live].flatMap((runner) => runner.inFlight().map((url) => `${runner.source.id}:${url}`));
  }

  nextRunMs(id: string): number | null {
    return this.runners.get(id)?.nextRunMs() ?? null;
  }

  private add(source: LoadedSource): SourceRunner {
    for (const secret of secretsOf(source.auth)) registerSecret(secret);
    if (source.collection.type === 'sqs' && source.collection.auth) for (const secret of secretsOf(source.collection.auth)) registerSecret(secret);
    if (source.signature_version === 'v2') {
      emit(this.options.log, 'legacy_signature', { source: source.id });
    }
    if (source.proxy !== 'none') registerSecret(source.proxy.password);
    const ca = this.config.trust.ca;
    const context = {
      store: this.options.store,
      sink: () => this.options.sink,
      log: this.options.log,
      clock: this.options.clock,
      parseThreads: this.parseThreads,
      digestKeys: (sinceMs: number, untilMs: number, signal: AbortSignal) => publicKeysFor(source, ca, sinceMs, untilMs, signal),
      digestCheckEveryMs: this.options.digestsEveryPoll ? 0 : undefined,
      onFinished: (result: PollResult) => this.options.onPollFinished?.(result),
    };
    const runner: SourceRunner = isQueued(source)
      ? new QueueRunner(source, this.queueFactory(source, ca), new S3Clients(s3BucketOptionsFor(source, ca), (options) => this.bucketFactory({ ...source, bucket: options.bucket, region: options.region }, ca)), context)
      : new PollRunner(source, this.bucketFactory(source, ca), context);
    this.runners.set(source.id, runner);
    this.live.add(runner);
    return runner;
  }

  private async remove(id: string): Promise<void> {
    const runner = this.runners.get(id);
    if (!runner) return;
    this.runners.delete(id);
    await runner.stop();
    this.live.delete(runner);
    runner.destroy();
  }
}
