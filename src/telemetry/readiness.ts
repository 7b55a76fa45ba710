/** Whether a source works, as /ready and s3pull_source_ready judge it. */
import type { SourceRow } from '../state/types.js';

export interface ReadinessSource {
  id: string;
  enabled: boolean;
  collection: { type: 'prefix' | 'sqs' };
  /** Polled sources: the interval (a cron schedule leaves it undefined). */
  recurrence?: number | undefined;
  expect_objects_within?: number | undefined;
  /** CloudTrail sources that check their digests. */
  cloudtrail?: { digests: 'verify' | 'off' } | undefined;
}

/** The service reads an SQS source's queue figures every minute; three missed readings is not working. */
const QUEUE_READ_WITHIN_MS = 3 * 60_000;

export function readinessOf(source: ReadinessSource, row: SourceRow | undefined, nowMs: number, nextRunMs: number | null): { ready: boolean; reason: string } {
  if (!row?.lastPollEndMs) return { ready: false, reason: source.collection.type === 'sqs' ? 'has not read its queue yet' : 'has not polled yet' };
  if (row.lastPollStatus !== 'ok' && row.lastPollStatus !== 'partial') {
    return { ready: false, reason: `its last ${source.collection.type === 'sqs' ? 'run' : 'poll'} ended ${row.lastPollStatus}${row.lastPollError ? `: ${row.lastPollError}` : ''}` };
  }
  if (source.collection.type === 'sqs') {
    const checked = row.queue?.checkedMs;
    if (!checked || nowMs - checked > QUEUE_READ_WITHIN_MS) return { ready: false, reason: `its queue was last read ${checked ? `${Math.round((nowMs - checked) / 1000)} s ago` : 'never'}` };
    return { ready: true, reason: 'ok' };
  }
  // A cron schedule has no fixed interval: the time from the last poll's start to the next run.
  const intervalMs = source.recurrence ?? Math.max(60_000, (nextRunMs ?? nowMs) - (row.lastPollStartMs ?? nowMs));
  const sinceMs = nowMs - row.lastPollEndMs;
  if (sinceMs > 2 * intervalMs) return { ready: false, reason: `its last successful poll ended ${Math.round(sinceMs / 1000)} s ago, more than twice its interval (${Math.round(intervalMs / 1000)} s)` };
  return { ready: true, reason: 'ok' };
}
