/**
 * What the main thread and a parse thread say to each other about one object, on the object's
 * own MessagePort. The main thread reads the object from S3 and hands its bytes over as the
 * thread asks for them; the thread decodes, parses and builds the envelope lines, and hands over
 * one batch at a time, never more than a window ahead of what the main thread has delivered.
 */
import type { FormatConfig } from '../formats/index.js';
import type { EnvelopeContext } from './envelope.js';
import type { BadLine } from './batches.js';
import type { ErrorCode, ErrorContext } from '../util/errors.js';

export interface ParseJob {
  format: FormatConfig;
  envelope: EnvelopeContext;
  resumeFrom: number;
  samplesWanted: number;
  /** Whether the source dedups: the thread then hands over each record's identity. */
  dedup: boolean;
  /** Whether the thread hashes the decompressed bytes (SHA-256, for CloudTrail digests). */
  hash?: boolean | undefined;
  maxRecordBytes?: number | undefined;
}

/** Batches a thread may prepare ahead of the one the main thread is delivering. */
export const BATCH_WINDOW = 2;

export type ToThread =
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'end' }
  /** A batch was delivered: one more may be prepared, in the buffer handed back. */
  | { type: 'ack'; buffer?: ArrayBuffer | undefined }
  /** The object is given up (shutdown, the output gave up, S3 broke off): stop at once. */
  | { type: 'abort' };

export interface BatchMessage {
  type: 'batch';
  ids: string[];
  times: string[];
  /** The envelope lines as NDJSON (each line ends in a newline), moved rather than copied. */
  ndjson: Uint8Array;
  eventOffsets: number[];
  dedupKeys: (string | undefined)[];
  badLines: number;
  badSamples: BadLine[];
}

export interface ErrorDescription {
  name: string;
  message: string;
  code?: ErrorCode;
  retryable?: boolean;
  context?: ErrorContext;
}

export type FromThread =
  /** The thread wants the next piece of the object's bytes. */
  | { type: 'more' }
  | BatchMessage
  | { type: 'done'; decodedBytes: number; sha256?: string | undefined }
  | { type: 'error'; error: ErrorDescription };
