import type { Readable } from 'node:stream';

/** One object of a listing, as the poll needs it. */
export interface ObjectInfo {
  key: string;
  etag: string;
  size: number;
  lastModified: Date;
}

/** Names one object: the bucket it is in and its key. */
export interface ObjectId {
  bucket: string;
  key: string;
}

/**
 * One object to pull, wherever it was heard of (a listing, a notification): it names its bucket,
 * and, when known, the version that was announced.
 */
export interface ObjectRef extends ObjectId {
  /** Without quotes; empty when the announcement did not give one. */
  etag: string;
  versionId?: string | undefined;
  size: number;
  lastModified: Date;
  /** The bucket's region, where the announcement names it (S3 notifications do). */
  region?: string | undefined;
}

export function refOf(bucket: string, object: ObjectInfo): ObjectRef {
  return { bucket, key: object.key, etag: object.etag, size: object.size, lastModified: object.lastModified };
}

/** Lists keys under a prefix in key order, one page at a time. */
export interface S3Lister {
  listPages(prefix: string, startAfter: string | undefined, signal: AbortSignal): AsyncIterable<ObjectInfo[]>;
  /** One level of the tree under `prefix` (Delimiter "/"): its sub-folders, and whether it holds objects itself. */
  listFolders(prefix: string, signal: AbortSignal): Promise<{ folders: string[]; hasObjects: boolean }>;
}

export interface FetchedObject {
  body: Readable;
  etag: string;
  size: number;
  /** The object's user metadata (`x-amz-meta-*`, names without the prefix, lower-cased). */
  metadata?: Record<string, string> | undefined;
}

/** Opens one object of this bucket as a byte stream. */
export interface S3Getter {
  /**
   * With `etag`, only that version: a rewritten object fails as S3_OBJECT_CHANGED. With
   * `versionId`, that version of a versioned bucket.
   */
  get(key: string, signal: AbortSignal, etag?: string, versionId?: string): Promise<FetchedObject>;
}

/** Opens any object a reference names, in whatever bucket and region it is. */
export interface ObjectGetter {
  get(object: ObjectRef, signal: AbortSignal): Promise<FetchedObject>;
}

/** Who the credentials are, for `s3pull test`. */
export interface CallerIdentity {
  accessKeyId: string;
  /** From STS GetCallerIdentity; undefined where STS cannot be reached (S3-compatible stores). */
  arn?: string | undefined;
  stsError?: string | undefined;
}

export interface S3Bucket extends S3Lister, S3Getter {
  readonly bucket: string;
  /** Resolves the credentials and asks STS whose they are. */
  whoAmI(signal: AbortSignal): Promise<CallerIdentity>;
  /** HeadBucket: the bucket's region as S3 reports it. */
  bucketRegion(signal: AbortSignal): Promise<string | undefined>;
  /** How far this host's clock is from S3's, in ms, as the SDK measured it. */
  clockOffsetMs(): number;
  destroy(): void;
}
