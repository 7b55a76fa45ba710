import type { Store } from '../state/types.js';

/**
 * Drops repeats of an event within a window (CloudTrail delivers global service events more than
 * once). A key counts as seen once the batch that delivered it is committed: keys are stored in
 * the same transaction as the progress, so a crash can repeat an event but never drop one that
 * was not delivered. Keys of batches still on their way are held in memory, so that two objects
 * pulled at once do not both deliver the same event.
 */
export class Deduplicator {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly sourceId: string,
    readonly windowMs: number,
  ) {}

  /** True when the key was delivered within the window or is on its way; otherwise claims it. */
  isRepeat(key: string, nowMs: number): boolean {
    if (this.inFlight.has(key)) return true;
    if (this.store.seenDedupKeys(this.sourceId, [key], nowMs - this.windowMs).size > 0) return true;
    this.inFlight.add(key);
    return false;
  }

  /** Lets go of claimed keys: after their batch was committed (the store has them) or failed. */
  release(keys: Iterable<string>): void {
    for (const key of keys) this.inFlight.delete(key);
  }

  prune(nowMs: number): number {
    return this.store.pruneDedupKeys(this.sourceId, nowMs - this.windowMs);
  }
}
