import type { Readable } from 'node:stream';

/** One object of a listing, as the poll needs it. */
export interface ObjectInfo {
  key: string;
  etag: string;
  size: number;
  lastModified: Date;
}

/** Lists keys under a prefix in key order, one page at a time. */
export interface S3Lister {
  listPages(prefix: string, startAfter: string | undefined, signal: AbortSignal): AsyncIterable<ObjectInfo[]>;
  /** One level of the tree under `prefix` (Delimiter "/"): its sub-folders, and whether it holds objects itself. */
  listFolders(prefix: string, signal: AbortSignal): Promise<{ folders: string[]; hasObjects: boolean }>;
}

/** Opens one object as a byte stream. */
export interface S3Getter {
  /** With `etag`, only that version: a rewritten object fails as S3_OBJECT_CHANGED. */
  get(key: string, signal: AbortSignal, etag?: string): Promise<{ body: Readable; etag: string; size: number }>;
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
