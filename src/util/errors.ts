/**
 * One base error with a stable `code`, a `retryable` flag and context, so that callers branch on
 * the class or code and never on message text.
 */
export interface ErrorContext {
  source?: string;
  bucket?: string;
  key?: string;
  line?: number;
  /** host:port of the proxy the request went through, if any. */
  via?: string | undefined;
  /** The region the source is configured with. */
  region?: string | undefined;
}

export class S3PullError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(code: string, message: string, options: { cause?: unknown; retryable?: boolean; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

/** The config is wrong; `problems` holds every problem found, each `file: field <value>: reason`. */
export class ConfigError extends S3PullError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Listing or fetching failed in a way that retrying soon may fix (throttling, 5xx, network). */
export class TransientS3Error extends S3PullError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('S3_TRANSIENT', message, { ...options, retryable: true });
  }
}

/** S3 refused in a way that needs an operator (permissions, missing bucket, wrong region). */
export class S3AccessError extends S3PullError {
  constructor(code: string, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, message, { ...options, retryable: false });
  }
}

/** The object's bytes cannot be decoded or parsed as its format: counts as an attempt. */
export class ObjectDataError extends S3PullError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('OBJECT_DATA', message, { ...options, retryable: false });
  }
}

/** The output did not take the events: the source pauses, the marker stays. */
export class SinkError extends S3PullError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SINK_FAILED', message, { ...options, retryable: true });
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAbortError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { name, code } = error as { name?: string; code?: string };
  return name === 'AbortError' || code === 'ABORT_ERR';
}
