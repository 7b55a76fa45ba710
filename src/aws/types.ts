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
}

/** Opens one object as a byte stream. */
export interface S3Getter {
  get(key: string, signal: AbortSignal): Promise<{ body: Readable; etag: string; size: number }>;
}

export interface S3Bucket extends S3Lister, S3Getter {
  readonly bucket: string;
  destroy(): void;
}
