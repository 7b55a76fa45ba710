/**
 * The collector: one runtime per source (S3 client, throttle, schedule), one shared sink and
 * store. Used by `run` (scheduled, with reload) and `once` (one poll now). One failing source
 * never stops another: each poll is awaited on its own and its errors end in its result.
 */
import type { LoadedConfig, LoadedSource } from '../config/load.js';
import type { S3Bucket } from '../aws/types.js';
import type { Sink } from '../sinks/types.js';
import type { Store } from '../state/types.js';
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { createS3Bucket, s3BucketOptionsFor } from '../aws/s3-bucket.js';
import { secretsOf } from '../aws/credentials.js';
import { TokenBucket } from '../throttle/token-bucket.js';
import { scheduleFor, type Schedule } from '../schedule/schedule.js';
import { pollSource, type PollObserver, type PollResult } from '../poll/poll-source.js';
import { S3PullError, errorMessage } from '../util/errors.js';
import { StateError } from '../state/state-errors.js';

export type BucketFactory = (source: LoadedSource, ca: string[] | undefined) => S3Bucket;

export const defaultBucketFactory: BucketFactory = (source, ca) => createS3Bucket(s3BucketOptionsFor(source, ca));

interface SourceRuntime {
  source: LoadedSource;
  bucket: S3Bucket;
  throttle: TokenBucket;
  schedule?: Schedule;
  controller: AbortController;
  running?: Promise<PollResult>;
  inFlight: Set<string>;
}

export interface CollectorOptions {
  store: Store;
  sink: Sink;
  log: Logger;
  clock: Clock;
  bucketFactory?: BucketFactory;
  onPollFinished?: (result: PollResult) => void;
}

export class Collector {
  private readonly runtimes = new Map<string, SourceRuntime>();
  /** Runtimes whose polls may still run: those removed while stopping stay until their poll ends. */
  private readonly live = new Set<SourceRuntime>();
  private readonly bucketFactory: BucketFactory;
  private scheduled = false;

  constructor(
    private config: LoadedConfig,
    private readonly options: CollectorOptions,
  ) {
    this.bucketFactory = options.bucketFactory ?? defaultBucketFactory;
    for (const source of config.sources) this.add(source);
  }

  get sources(): LoadedSource[] {
    return [...this.runtimes.values()].map((runtime) => runtime.source);
  }

  /** One poll of the given sources (all enabled ones by default), concurrently. */
  async pollNow(ids: string[] = [], observer: PollObserver = {}): Promise<PollResult[]> {
    const selected = ids.length > 0 ? ids.map((id) => this.runtimes.get(id)!) : [...this.runtimes.values()].filter((r) => r.source.enabled);
    return Promise.all(selected.map((runtime) => this.poll(runtime, observer)));
  }

  /** Schedules every enabled source. */
  start(): void {
    this.scheduled = true;
    for (const runtime of this.runtimes.values()) this.schedule(runtime);
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
    for (const [id, runtime] of this.runtimes) {
      const replacement = nextById.get(id);
      if (!replacement) {
        removed.push(id);
        await this.remove(id);
      } else if (trustChanged || JSON.stringify(replacement) !== JSON.stringify(runtime.source)) {
        changed.push(id);
        await this.remove(id);
      }
    }
    for (const source of next.sources) {
      if (!this.runtimes.has(source.id)) {
        if (!changed.includes(source.id)) added.push(source.id);
        const runtime = this.add(source);
        if (this.scheduled) this.schedule(runtime);
      }
    }
    return { added, removed, changed };
  }

  /**
   * Sends the next polls to another output. Polls in flight finish on the output they began with;
   * the old one is returned once they have, for the caller to close.
   */
  async replaceSink(next: Sink): Promise<Sink> {
    const previous = this.options.sink;
    this.options.sink = next;
    await Promise.all([...this.runtimes.values()].map((runtime) => runtime.running?.catch(() => {})));
    return previous;
  }

  /** Stops scheduling, lets polls in flight checkpoint at their next batch, and waits for them. */
  async stop(): Promise<void> {
    this.scheduled = false;
    await Promise.all([...this.runtimes.keys()].map((id) => this.remove(id)));
  }

  /** The objects being pulled now, as s3:// URLs with their source. */
  inFlight(): string[] {
    return [...this.live].flatMap((runtime) => [...runtime.inFlight].map((url) => `${runtime.source.id}:${url}`));
  }

  nextRunMs(id: string): number | null {
    return this.runtimes.get(id)?.schedule?.nextRunMs() ?? null;
  }

  private add(source: LoadedSource): SourceRuntime {
    for (const secret of secretsOf(source.auth)) registerSecret(secret);
    if (source.signature_version === 'v2') {
      this.options.log.warn('signature_version v2 is a legacy signature for old S3-compatible stores; AWS regions opened since 2014 accept only v4', { source: source.id });
    }
    if (source.proxy !== 'none') registerSecret(source.proxy.password);
    const runtime: SourceRuntime = {
      source,
      bucket: this.bucketFactory(source, this.config.trust.ca),
      throttle: new TokenBucket(source.eps_throttle, this.options.clock),
      controller: new AbortController(),
      inFlight: new Set(),
    };
    this.runtimes.set(source.id, runtime);
    this.live.add(runtime);
    return runtime;
  }

  private async remove(id: string): Promise<void> {
    const runtime = this.runtimes.get(id);
    if (!runtime) return;
    this.runtimes.delete(id);
    runtime.schedule?.stop();
    runtime.controller.abort();
    await runtime.running?.catch(() => {});
    this.live.delete(runtime);
    if (runtime.schedule) this.options.store.recordNextPoll(id, null);
    runtime.bucket.destroy();
  }

  private schedule(runtime: SourceRuntime): void {
    if (!runtime.source.enabled) return;
    runtime.schedule = scheduleFor(runtime.source);
    runtime.schedule.start(async () => {
      await this.poll(runtime, {});
      this.options.store.recordNextPoll(runtime.source.id, runtime.schedule?.nextRunMs() ?? null);
    });
    this.options.log.info('source scheduled', { source: runtime.source.id, schedule: runtime.schedule.description });
  }

  private async poll(runtime: SourceRuntime, observer: PollObserver): Promise<PollResult> {
    if (runtime.running) return runtime.running;
    const deps = {
      store: this.options.store,
      sink: this.options.sink,
      bucket: runtime.bucket,
      clock: this.options.clock,
      log: this.options.log,
      throttle: runtime.throttle,
      inFlight: runtime.inFlight,
    };
    runtime.running = pollSource(runtime.source, deps, runtime.controller.signal, observer)
      .catch((error: unknown): PollResult => {
        // A bug or a broken state file in one source must not stop the others.
        const known = error instanceof S3PullError;
        this.options.log.error(known ? 'poll failed' : 'poll crashed', { source: runtime.source.id, error: errorMessage(error) });
        return {
          ...(error instanceof StateError && error.code === 'STATE_REPLACED' ? { fatal: error.message } : {}),
          sourceId: runtime.source.id,
          status: 'failed',
          objectsDone: 0,
          objectsFailed: 0,
          objectsRetrying: 0,
          objectsSkipped: 0,
          events: 0,
          badLines: 0,
          duplicates: 0,
          errors: [errorMessage(error)],
        };
      })
      .finally(() => {
        runtime.running = undefined;
      });
    const result = await runtime.running;
    this.options.onPollFinished?.(result);
    return result;
  }
}
