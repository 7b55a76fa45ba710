/**
 * Requests made to AWS per source and operation, counted at every HTTP attempt (a retried request
 * is billed again, so it counts again): what the bucket and queue owners pay for. The collector
 * moves the counts into the state file (per UTC day) every so often and when it stops.
 */
import type { Pluggable } from '@smithy/types';
import { utcDay } from '../util/clock.js';
import { silentLogger } from '../log/logger.js';
import { emit } from '../telemetry/events.js';

export interface RequestCount {
  sourceId: string;
  /** The API operation: ListObjectsV2, GetObject, HeadBucket, ReceiveMessage, DeleteMessageBatch… */
  operation: string;
  /** UTC day of the requests, YYYY-MM-DD. */
  day: string;
  count: number;
}

export class RequestCounts {
  private readonly counts = new Map<string, RequestCount>();

  add(sourceId: string, operation: string, nowMs = Date.now()): void {
    const day = utcDay(nowMs);
    const key = `${sourceId}\u0000${operation}\u0000${day}`;
    const found = this.counts.get(key);
    if (found) found.count += 1;
    else this.counts.set(key, { sourceId, operation, day, count: 1 });
  }

  /** The counts so far, forgotten here: the caller stores them. */
  drain(): RequestCount[] {
    const drained = [...this.counts.values()];
    this.counts.clear();
    return drained;
  }
}

/** The process's one tally: every client of every source counts into it. */
export const requestCounts = new RequestCounts();

/**
 * A client plugin that counts each attempt of each request for `sourceId`. It sits in the
 * deserialize step, inside the SDK's retry loop, so that retries are counted as the requests
 * they are.
 */
export function countingPlugin<Input extends object, Output extends object>(sourceId: string, counts: RequestCounts = requestCounts): Pluggable<Input, Output> {
  const log = silentLogger.child({ source: sourceId });
  return {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
          counts.add(sourceId, operation);
          try {
            const output = await next(args);
            emit(log, 'aws_request', { operation, outcome: 'ok' });
            return output;
          } catch (error) {
            emit(log, 'aws_request', { operation, outcome: requestOutcome(error) });
            throw error;
          }
        },
        { step: 'deserialize', name: 's3pullRequestCount', priority: 'low' },
      );
    },
  };
}

/** A failed attempt's outcome, for the metrics: by the HTTP status AWS answered with, if any. */
export function requestOutcome(error: unknown): string {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name ?? '';
  if (status === 429 || status === 503 || /Throttl|SlowDown|TooManyRequests/.test(name)) return 'throttled';
  if (status === undefined) return 'network';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  return 'ok';
}
