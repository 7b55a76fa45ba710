import type { Clock } from '../util/clock.js';

/**
 * Caps events per second for one source. `take` waits until the bucket holds enough tokens; the
 * caller awaits it before writing, so a throttled source reads no further and memory stays flat.
 * The bucket holds at most one second of tokens, so an idle source cannot burst above its rate
 * for longer than a second.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Sum of all waits, for the throttled counter. */
  waitedMs = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = ratePerSecond;
    this.last = clock.now();
  }

  get unlimited(): boolean {
    return this.ratePerSecond <= 0;
  }

  async take(count: number, signal?: AbortSignal): Promise<void> {
    if (this.unlimited || count <= 0) return;
    this.refill();
    this.tokens -= count;
    if (this.tokens >= 0) return;
    // Debt is paid by waiting; concurrent takers queue behind it because the debt is shared.
    const waitMs = Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
    this.waitedMs += waitMs;
    await this.clock.sleep(waitMs, signal);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.ratePerSecond, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
