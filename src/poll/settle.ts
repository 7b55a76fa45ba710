/**
 * Walks a partition's listing in key order and finds how far the settled key (the marker) may
 * move: up to the largest key K such that every object up to K is finished (done, skipped or
 * finally failed) and K itself is older than the late window. An object that is not finished
 * stops the walk: the marker never passes an object that was not delivered or quarantined.
 */
export class SettledKeyWalker {
  private blocked = false;
  private candidate: string | undefined;

  constructor(private readonly lateBeforeMs: number) {}

  visit(key: string, lastModifiedMs: number, finished: boolean): void {
    if (this.blocked) return;
    if (!finished) {
      this.blocked = true;
      return;
    }
    if (lastModifiedMs <= this.lateBeforeMs) this.candidate = key;
  }

  /** The key the marker may move to, if any. */
  get settledKey(): string | undefined {
    return this.candidate;
  }

  get isBlocked(): boolean {
    return this.blocked;
  }
}
