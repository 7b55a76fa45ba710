/**
 * The object path both collection modes share: pulls object references `concurrency` at a time
 * (in the order they were handed in), retries a broken download at once a few times, and turns
 * each failure into its disposition. It knows nothing of where the references came from: a
 * listing or a queue message hands them in, with the checkpoint that records them.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import type { ObjectRef } from '../aws/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../util/errors.js';
import { emit } from '../telemetry/events.js';
import type { Checkpoint } from './checkpoint.js';
import { dispositionOf } from './disposition.js';
import type { PullOutcome } from './pull-object.js';

/**
 * A throttled or broken download is tried again at once this many times, with a doubling pause,
 * resuming after the last delivered batch; after that it waits (the next poll, or the message's
 * return to the queue).
 */
export const TRANSIENT_RETRIES = 3;
const TRANSIENT_BACKOFF_MS = 1000;

export type ObjectOutcome =
  | { status: 'done'; outcome: PullOutcome }
  /** Given up on for good (after max_attempts, or gone): settled, like done. */
  | { status: 'quarantined'; error: string; gone: boolean }
  /** Not finished; tried again later. `changed`: rewritten since it was announced. */
  | { status: 'retry_later'; error: string; attempts: number; nextAttemptMs: number | null; changed: boolean }
  /** Not tried, or broken off: the worker stopped (shutdown, output or state file failed). */
  | { status: 'stopped' }
  /** Not tried: another runner of the source (the queue, or its reconcile listing) is pulling it now. */
  | { status: 'busy' };

export type PullFunction = (object: ObjectRef, checkpoint: Checkpoint, signal: AbortSignal) => Promise<PullOutcome>;

export interface ObjectWorkerOptions {
  concurrency: number;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  pull: PullFunction;
  /** Keys being pulled right now, for the log of a shutdown that had to abandon them. */
  inFlight?: Set<string> | undefined;
}

export class ObjectWorker {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private stopError: unknown;

  constructor(private readonly options: ObjectWorkerOptions) {
    // Every object in flight listens for the stop: its download, its parse thread, its output
    // requests, its backoff. Node warns above ten listeners, which is not a leak here.
    setMaxListeners(Math.max(getMaxListeners(options.signal), options.concurrency * 4 + 20), options.signal);
  }

  /** Why the worker stopped, once an object's failure stopped it (a SinkError, a StateError, an abort). */
  get stopReason(): unknown {
    return this.stopError;
  }

  get stopped(): boolean {
    return this.stopError !== undefined || this.options.signal.aborted;
  }

  /** Lets objects be pulled again after a stop that was waited out (the output is back). */
  resume(): void {
    if (!this.options.signal.aborted) this.stopError = undefined;
  }

  /** How many objects are being pulled now. */
  get busy(): number {
    return this.running;
  }

  /** Pulls one object when a slot is free; references handed in earlier start first. */
  async pull(object: ObjectRef, checkpoint: Checkpoint): Promise<ObjectOutcome> {
    await this.slot();
    const url = `s3://${object.bucket}/${object.key}`;
    let mine = false;
    try {
      if (this.stopped) return { status: 'stopped' };
      // Two runners of one source share this set: an object is pulled by one of them at a time.
      if (this.options.inFlight?.has(url)) return { status: 'busy' };
      this.options.inFlight?.add(url);
      mine = true;
      return await this.attempt(object, checkpoint);
    } finally {
      if (mine) this.options.inFlight?.delete(url);
      this.release();
    }
  }

  private async attempt(object: ObjectRef, checkpoint: Checkpoint): Promise<ObjectOutcome> {
    const { clock, signal } = this.options;
    const log = this.options.log.child({ key: object.key });
    for (let retry = 0; ; retry += 1) {
      try {
        const outcome = await this.options.pull(object, checkpoint, signal);
        emit(log, 'object_done', { events: outcome.events, bad_lines: outcome.badLines, repeats: outcome.duplicates, bytes: Math.max(0, object.size), decoded_bytes: outcome.decodedBytes });
        return { status: 'done', outcome };
      } catch (error) {
        // Whatever fails while shutting down failed because of the shutdown, not the object.
        const disposition = signal.aborted ? 'stop' : dispositionOf(error);
        const message = errorMessage(error);
        switch (disposition) {
          case 'stop':
            this.stopError ??= error;
            return { status: 'stopped' };
          case 'object_gone':
            checkpoint.fail(object, { kind: 'object_gone', error: message });
            emit(log, 'object_gone', {});
            return { status: 'quarantined', error: message, gone: true };
          case 'retry_now':
          case 'retry_later': {
            // Throttling, network trouble and rewrites are never the object's fault: not counted.
            checkpoint.fail(object, { kind: 'retry_later', error: message });
            if (disposition === 'retry_now' && retry < TRANSIENT_RETRIES) {
              emit(log, 'object_interrupted', { error: message });
              await clock.sleep(TRANSIENT_BACKOFF_MS * 2 ** retry, signal).catch(() => {});
              if (this.stopped) return { status: 'stopped' };
              continue;
            }
            emit(log, 'object_retry_later', { error: message });
            return { status: 'retry_later', error: message, attempts: 0, nextAttemptMs: null, changed: disposition === 'retry_later' };
          }
          case 'attempt_failed': {
            const record = checkpoint.fail(object, { kind: 'attempt_failed', error: message });
            if (record.quarantined) {
              emit(log, 'object_quarantined', { attempts: record.attempts, error: message });
              return { status: 'quarantined', error: message, gone: false };
            }
            emit(log, 'object_failed', { attempt: record.attempts, error: message });
            return { status: 'retry_later', error: message, attempts: record.attempts, nextAttemptMs: record.nextAttemptMs, changed: false };
          }
        }
      }
    }
  }

  private async slot(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight on
    else this.running -= 1;
  }
}
