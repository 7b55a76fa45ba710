/**
 * Deletes settled messages ten at a time (DeleteMessageBatch) instead of one request each: under
 * load, messages settle close together, and SQS bills per request. A deletion waits at most
 * `lingerMs` for company; each caller learns whether its own message was deleted.
 */
import { QueueAccessError } from '../util/errors.js';

export interface BatchDeleter {
  /** Deletes up to ten messages; returns the receipt handles SQS refused, with its reason. */
  deleteBatch(receiptHandles: string[]): Promise<Map<string, string>>;
}

const SQS_BATCH_LIMIT = 10;

export class DeleteBatcher {
  private pending: { receipt: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deleter: BatchDeleter,
    private readonly lingerMs = 50,
  ) {}

  delete(receipt: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ receipt, resolve, reject });
      if (this.pending.length >= SQS_BATCH_LIMIT) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, SQS_BATCH_LIMIT);
      this.deleter.deleteBatch(batch.map((entry) => entry.receipt)).then(
        (refused) => {
          for (const entry of batch) {
            const reason = refused.get(entry.receipt);
            if (reason === undefined) entry.resolve();
            else entry.reject(new QueueAccessError(`delete a message: SQS refused (${reason})`));
          }
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }
}
