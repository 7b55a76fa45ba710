import type { Clock } from '../util/clock.js';
import { emit } from '../telemetry/events.js';
import type { Logger } from '../log/logger.js';
import { OutputRefusedError, OutputUnavailableError, RejectedEventsError, SinkError, errorMessage } from '../util/errors.js';

const UNTRUSTED_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A certificate does not fix itself: an untrusted receiver is named at once, with the fix. */
export function untrustedCertificate(error: unknown): OutputRefusedError | undefined {
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    const code = (cause as { code?: string }).code;
    if (code && UNTRUSTED_CODES.has(code)) {
      return new OutputRefusedError(
        `the receiver's TLS certificate is not trusted (${code}: ${(cause as Error).message}); put its CA in certs_dir (s3pull certs fetch HOST:PORT shows and saves the chain)`,
      );
    }
  }
  return undefined;
}

/** A failure the receiver asked us to wait out (HTTP 429/503 with Retry-After). */
export class RetryAfterError extends OutputUnavailableError {
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}

export interface RetryPolicy {
  clock: Clock;
  log: Logger;
  /** What is being delivered to, for messages ("syslog tcp://siem:514"). */
  target: string;
  /** How long one batch is retried before the poll gives up (its marker stays). */
  timeoutMs: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Delivers with exponential backoff while the receiver is down, so that a restart of the SIEM
 * pauses the sources instead of failing them; after `timeoutMs` the batch fails as a SinkError,
 * which ends the poll with the marker kept (the next poll starts over from it).
 */
export class DeliveryRetrier {
  private outage: { sinceMs: number } | undefined;

  constructor(private readonly policy: RetryPolicy) {}

  async run<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { clock, log, target } = this.policy;
    const startedMs = clock.now();
    let delayMs = this.policy.firstDelayMs ?? 500;
    for (let tries = 1; ; tries += 1) {
      try {
        const result = await attempt();
        if (this.outage) {
          emit(log, 'output_back', { output: target, down_for_s: Math.round((clock.now() - this.outage.sinceMs) / 1000) });
          this.outage = undefined;
        }
        return result;
      } catch (error) {
        if (error instanceof RejectedEventsError) throw error;
        // Shutting down is not the output's fault: the poll ends as aborted, not as a failed output.
        if (signal?.aborted) throw signal.reason;
        if (error instanceof OutputRefusedError) throw new SinkError(`${target}: ${error.message}`, { cause: error });
        const message = errorMessage(error);
        const waitMs = error instanceof RetryAfterError ? Math.max(error.retryAfterMs, delayMs) : delayMs;
        if (clock.now() - startedMs + waitMs > this.policy.timeoutMs) {
          throw new SinkError(`${target}: ${message} (tried ${tries} times over ${Math.round((clock.now() - startedMs) / 1000)} s; the marker stays and the next poll tries again)`, { cause: error });
        }
        if (!this.outage) {
          this.outage = { sinceMs: clock.now() };
          emit(log, 'output_unavailable', { output: target, error: message });
        } else {
          emit(log, 'output_still_unavailable', { output: target, error: message, retry_in_ms: waitMs });
        }
        await clock.sleep(waitMs, signal);
        delayMs = Math.min(delayMs * 2, this.policy.maxDelayMs ?? 30_000);
      }
    }
  }
}
