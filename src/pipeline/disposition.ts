import { S3PullError, isAbortError } from '../util/errors.js';

/**
 * What to do after an object's attempt failed, decided by the error's code alone:
 * - `stop`: not the object's fault and nothing to gain by going on (shutdown, the output gave up,
 *   the state file failed); the source pauses with nothing committed past what was delivered;
 * - `retry_now`: a throttled or broken download, tried again at once (resuming);
 * - `retry_later`: not the object's fault, but not worth retrying now (it changed after it was
 *   listed; its parse thread died; or `retry_now` ran out of tries);
 * - `attempt_failed`: the object's own fault: counted, quarantined after max_attempts;
 * - `object_gone`: deleted before it was read.
 */
export type Disposition = 'stop' | 'retry_now' | 'retry_later' | 'attempt_failed' | 'object_gone';

export function dispositionOf(error: unknown): Disposition {
  if (isAbortError(error)) return 'stop';
  if (!(error instanceof S3PullError)) return 'attempt_failed';
  switch (error.code) {
    case 'SINK_FAILED':
    case 'OUTPUT_UNAVAILABLE':
    case 'OUTPUT_REFUSED':
      return 'stop';
    case 'S3_OBJECT_GONE':
      return 'object_gone';
    case 'S3_OBJECT_CHANGED':
    case 'PARSE_THREAD_FAILED':
      return 'retry_later';
    case 'OUTPUT_REJECTED':
    case 'OBJECT_DATA':
      return 'attempt_failed';
    default:
      if (error.code.startsWith('STATE_')) return 'stop';
      return error.retryable ? 'retry_now' : 'attempt_failed';
  }
}
