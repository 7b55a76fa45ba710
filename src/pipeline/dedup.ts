import type { DedupStore } from '../state/types.js';

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
    private readonly store: DedupStore,
    private readonly sourceId: string,
    readonly windowMs: number,
  ) {}

  /**
   * For a batch's keys (undefined: an event without one), which are repeats: delivered within the
   * window, on their way in another batch, or earlier in this one. The others are claimed.
   */
  claim(keys: (string | undefined)[], nowMs: number): { repeats: boolean[]; claimed: string[] } {
    const candidates = keys.filter((key): key is string => key !== undefined && !this.inFlight.has(key));
    const seen = this.store.seenDedupKeys(this.sourceId, [...new Set(candidates)], nowMs - this.windowMs);
    const claimed: string[] = [];
    const repeats = keys.map((key) => {
      if (key === undefined) return false;
      if (this.inFlight.has(key) || seen.has(key)) return true;
      this.inFlight.add(key);
      claimed.push(key);
      return false;
    });
    return { repeats, claimed };
  }

  /** Lets go of claimed keys: after their batch was committed (the store has them) or failed. */
  release(keys: Iterable<string>): void {
    for (const key of keys) this.inFlight.delete(key);
  }

  prune(nowMs: number): number {
    return this.store.pruneDedupKeys(this.sourceId, nowMs - this.windowMs);
  }
}
