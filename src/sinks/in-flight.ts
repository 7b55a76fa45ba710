/** Writes still on their way, so that `close` can wait for them (succeeded or not). */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.catch(() => {});
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return work;
  }

  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }
}
