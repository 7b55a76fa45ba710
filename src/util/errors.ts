/**
 * Every error s3pull raises on purpose: one `ErrorCode` union, one class per code (as undici's
 * `UND_ERR_*`), each with a `retryable` flag and context, so that callers branch on the class or
 * the code and never on message text.
 */
export type ErrorCode =
  // configuration
  | 'CONFIG_INVALID'
  // S3
  | 'S3_TRANSIENT'
  | 'S3_OBJECT_GONE'
  | 'S3_OBJECT_CHANGED'
  | 'S3_ACCESS_DENIED'
  | 'S3_BAD_CREDENTIALS'
  | 'S3_NO_CREDENTIALS'
  | 'S3_NO_SUCH_BUCKET'
  | 'S3_WRONG_REGION'
  | 'S3_ERROR'
  | 'PROXY_AUTH'
  | 'TLS_UNTRUSTED'
  | 'CLOCK_SKEW'
  // credentials
  | 'CREDENTIALS_UNREACHABLE'
  | 'CREDENTIALS_REFUSED'
  // SQS
  | 'QUEUE_TRANSIENT'
  | 'QUEUE_ACCESS'
  | 'QUEUE_RECEIPT_INVALID'
  // an object's bytes
  | 'OBJECT_DATA'
  // a parse thread
  | 'PARSE_THREAD_FAILED'
  // outputs
  | 'OUTPUT_UNAVAILABLE'
  | 'OUTPUT_REFUSED'
  | 'OUTPUT_REJECTED'
  | 'SINK_FAILED'
  // the state file
  | 'STATE_MISSING'
  | 'STATE_NOT_S3PULL'
  | 'STATE_OLDER'
  | 'STATE_TOO_NEW'
  | 'STATE_REPLACED'
  | 'STATE_DISK_FULL'
  | 'STATE_READ_ONLY'
  | 'STATE_NOT_SQLITE'
  | 'STATE_CORRUPT'
  | 'STATE_CANNOT_OPEN'
  | 'STATE_BUSY'
  | 'STATE_IO'
  | 'STATE_PERMISSION'
  | 'STATE_UNUSABLE'
  | 'STATE_ERROR'
  | 'SOURCE_UNKNOWN';

export interface ErrorContext {
  source?: string;
  bucket?: string;
  key?: string;
  line?: number;
  /** host:port of the proxy the request went through, if any. */
  via?: string | undefined;
  /** The region the source is configured with. */
  region?: string | undefined;
  /** The queue a message came from. */
  queue?: string;
}

export interface ErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  context?: ErrorContext;
}

export class S3PullError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.context = options.context ?? {};
  }
}

type Options = Omit<ErrorOptions, 'retryable'>;

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
  constructor(message: string, options: Options = {}) {
    super('S3_TRANSIENT', message, { ...options, retryable: true });
  }
}

/** The object was deleted between the listing (or the notification) and the read. */
export class ObjectGoneError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('S3_OBJECT_GONE', message, options);
  }
}

/** The object was rewritten after it was listed: the next listing names the new version. */
export class ObjectChangedError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('S3_OBJECT_CHANGED', message, { ...options, retryable: true });
  }
}

export type S3AccessCode =
  | 'S3_ACCESS_DENIED'
  | 'S3_BAD_CREDENTIALS'
  | 'S3_NO_CREDENTIALS'
  | 'S3_NO_SUCH_BUCKET'
  | 'S3_WRONG_REGION'
  | 'S3_ERROR'
  | 'PROXY_AUTH'
  | 'TLS_UNTRUSTED'
  | 'CLOCK_SKEW';

/** S3 refused in a way that needs an operator (permissions, missing bucket, wrong region). */
export class S3AccessError extends S3PullError {
  constructor(code: S3AccessCode, message: string, options: Options = {}) {
    super(code, message, { ...options, retryable: false });
  }
}

/**
 * Credentials could not be had. Raised inside the AWS call that needed them, so without this the
 * error would read as the call's own ("list bucket …: ECONNREFUSED" when STS is down).
 */
export class CredentialsError extends S3PullError {
  constructor(code: 'CREDENTIALS_UNREACHABLE' | 'CREDENTIALS_REFUSED', message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** SQS could not be reached or answered with a 5xx: receiving pauses and tries again. */
export class QueueTransientError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('QUEUE_TRANSIENT', message, { ...options, retryable: true });
  }
}

/** SQS refused (no such queue, access denied, bad credentials): an operator must act. */
export class QueueAccessError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('QUEUE_ACCESS', message, options);
  }
}

/** A receipt handle no longer holds the message (its visibility expired; another consumer has it). */
export class ReceiptInvalidError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('QUEUE_RECEIPT_INVALID', message, options);
  }
}

/** The object's bytes cannot be decoded or parsed as its format: counts as an attempt. */
export class ObjectDataError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('OBJECT_DATA', message, { ...options, retryable: false });
  }
}

/**
 * A parse thread died under an object (out of memory, a bug): not the object's fault, so no
 * attempt is counted; the object is tried again at the next poll, on a new thread.
 */
export class ParseThreadError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('PARSE_THREAD_FAILED', message, { ...options, retryable: false });
  }
}

/** The receiver cannot be reached or did not take a batch (yet): the sink retries, then gives up. */
export class OutputUnavailableError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('OUTPUT_UNAVAILABLE', message, { ...options, retryable: true });
  }
}

/** A delivery failure that retrying cannot fix (refused credentials, an untrusted certificate). */
export class OutputRefusedError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('OUTPUT_REFUSED', message, { ...options, retryable: false });
  }
}

/**
 * The receiver took the request but refused some of its events for good (an Elasticsearch mapping
 * error). That is the object's problem, not the output's: the object fails like an unreadable
 * one (retried, then quarantined after max_attempts) and the source goes on with the others.
 */
export class RejectedEventsError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('OUTPUT_REJECTED', message, { ...options, retryable: false });
  }
}

/** The output did not take the events within its retry time: the source pauses, the marker stays. */
export class SinkError extends S3PullError {
  constructor(message: string, options: Options = {}) {
    super('SINK_FAILED', message, { ...options, retryable: true });
  }
}

export type StateErrorCode = Extract<ErrorCode, `STATE_${string}`>;

/** The state file cannot be read or written; polls stop, nothing is committed past what was. */
export class StateError extends S3PullError {
  constructor(code: StateErrorCode, message: string, options: Options = {}) {
    super(code, message, { ...options, retryable: false });
  }
}

/** A command names a source the state file has never seen. */
export class UnknownSourceError extends S3PullError {
  constructor(message: string) {
    super('SOURCE_UNKNOWN', message);
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

export function hasCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof S3PullError && error.code === code;
}
