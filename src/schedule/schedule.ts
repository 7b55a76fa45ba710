/**
 * When a source polls. A recurrence (JSA's `15M`, `2H`, `1D`) is an interval measured from the
 * start of the previous poll; a `schedule` is a cron expression run by node-cron. Either way the
 * runner chains polls: a tick that comes while a poll still runs is skipped, never overlapped.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { formatDuration } from '../util/duration.js';

/**
 * Node's timers hold at most 2^31-1 ms (24.8 days); a longer delay fires at once, so a `30D`
 * recurrence would poll in a hot loop. Longer waits are taken in steps no longer than this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Node's timers, as a parameter so that a test can stand in for them. */
export interface Timers {
  set(fire: () => void, ms: number): unknown;
  clear(timer: unknown): void;
}

const nodeTimers: Timers = {
  set: (fire, ms) => setTimeout(fire, ms),
  clear: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Calls `fire` at `atMs` (by `now`), however far away, in steps that Node's timers can hold. */
function timerAt(atMs: number, now: () => number, timers: Timers, fire: () => void, keep: (timer: unknown) => void): void {
  const remaining = atMs - now();
  if (remaining <= MAX_TIMER_MS) {
    keep(timers.set(fire, Math.max(0, remaining)));
    return;
  }
  keep(timers.set(() => timerAt(atMs, now, timers, fire, keep), MAX_TIMER_MS));
}

export interface Schedule {
  /** Starts ticking; `tick` is awaited, and ticks during a running poll are dropped. */
  start(tick: () => Promise<void>): void;
  stop(): void;
  /** When the next poll is due, for `s3pull sources`. */
  nextRunMs(): number | null;
  readonly description: string;
}

export class IntervalSchedule implements Schedule {
  private timer: unknown;
  private nextMs: number | null = null;
  private stopped = false;
  readonly description: string;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly timers: Timers = nodeTimers,
  ) {
    this.description = `every ${formatDuration(intervalMs)}`;
  }

  start(tick: () => Promise<void>): void {
    const run = async () => {
      const startedMs = this.now();
      this.nextMs = null;
      await tick();
      if (this.stopped) return;
      this.nextMs = Math.max(this.now(), startedMs + this.intervalMs);
      timerAt(this.nextMs, this.now, this.timers, () => void run(), (timer) => (this.timer = timer));
    };
    // The first poll runs at start, as a collector that was down has catching up to do.
    this.nextMs = this.now();
    this.timer = this.timers.set(() => void run(), 0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.nextMs = null;
  }

  nextRunMs(): number | null {
    return this.nextMs;
  }
}

export class CronSchedule implements Schedule {
  private task: ScheduledTask | undefined;
  private running = false;
  readonly description: string;

  constructor(private readonly expression: string) {
    this.description = `cron "${expression}"`;
  }

  start(tick: () => Promise<void>): void {
    this.task = cron.schedule(this.expression, async () => {
      if (this.running) return;
      this.running = true;
      try {
        await tick();
      } finally {
        this.running = false;
      }
    });
  }

  stop(): void {
    void this.task?.destroy();
    this.task = undefined;
  }

  nextRunMs(): number | null {
    return this.task?.getNextRun()?.getTime() ?? null;
  }
}

export function scheduleFor(source: { recurrence?: number | undefined; schedule?: string | undefined }): Schedule {
  if (source.schedule !== undefined) return new CronSchedule(source.schedule);
  return new IntervalSchedule(source.recurrence ?? 300_000);
}
