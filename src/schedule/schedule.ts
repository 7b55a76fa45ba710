/**
 * When a source polls. A recurrence (JSA's `15M`, `2H`, `1D`) is an interval measured from the
 * start of the previous poll; a `schedule` is a cron expression run by node-cron. Either way the
 * runner chains polls: a tick that comes while a poll still runs is skipped, never overlapped.
 */
import cron, { type ScheduledTask } from 'node-cron';

export interface Schedule {
  /** Starts ticking; `tick` is awaited, and ticks during a running poll are dropped. */
  start(tick: () => Promise<void>): void;
  stop(): void;
  /** When the next poll is due, for `s3pull sources`. */
  nextRunMs(): number | null;
  readonly description: string;
}

export class IntervalSchedule implements Schedule {
  private timer: NodeJS.Timeout | undefined;
  private nextMs: number | null = null;
  private stopped = false;
  readonly description: string;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.description = `every ${intervalMs / 60_000} min`;
  }

  start(tick: () => Promise<void>): void {
    const run = async () => {
      const startedMs = this.now();
      this.nextMs = null;
      await tick();
      if (this.stopped) return;
      this.nextMs = Math.max(this.now(), startedMs + this.intervalMs);
      this.timer = setTimeout(() => void run(), this.nextMs - this.now());
    };
    // The first poll runs at start, as a collector that was down has catching up to do.
    this.nextMs = this.now();
    this.timer = setTimeout(() => void run(), 0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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
