/**
 * An in-memory bucket behind the project's own one-method interfaces (S3Lister, S3Getter), for
 * the logic of the poll and the object path; the S3 behaviour itself is tested against moto.
 * Keys list in byte order, with StartAfter, pages and Delimiter folders, as S3 does.
 */
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type { ObjectInfo, S3Bucket } from '../../src/aws/types.js';

export class FakeBucket implements S3Bucket {
  readonly bucket = 'fake-bucket';
  readonly objects = new Map<string, { body: Buffer; etag: string; lastModified: Date; metadata?: Record<string, string> | undefined }>();
  /** Every listing asked for, to check what a poll lists. */
  readonly listings: { prefix: string; startAfter: string | undefined }[] = [];
  gets: string[] = [];
  /** Makes `get` of a key fail with this error (once per entry in the list). */
  failGet = new Map<string, unknown[]>();

  constructor(private readonly pageSize = 1000) {}

  put(key: string, body: Buffer | string, lastModified = new Date(), metadata?: Record<string, string>): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.objects.set(key, { body: bytes, etag: createHash('md5').update(bytes).digest('hex'), lastModified, metadata });
  }

  private sortedKeys(): string[] {
    return [...this.objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  async *listPages(prefix: string, startAfter: string | undefined): AsyncIterable<ObjectInfo[]> {
    this.listings.push({ prefix, startAfter });
    const keys = this.sortedKeys().filter((key) => key.startsWith(prefix) && (startAfter === undefined || Buffer.compare(Buffer.from(key), Buffer.from(startAfter)) > 0));
    for (let offset = 0; offset < keys.length || offset === 0; offset += this.pageSize) {
      yield keys.slice(offset, offset + this.pageSize).map((key) => {
        const object = this.objects.get(key)!;
        return { key, etag: object.etag, size: object.body.length, lastModified: object.lastModified };
      });
      if (keys.length === 0) return;
    }
  }

  async listFolders(prefix: string): Promise<{ folders: string[]; hasObjects: boolean }> {
    const folders = new Set<string>();
    let hasObjects = false;
    for (const key of this.sortedKeys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) hasObjects = true;
      else folders.add(prefix + rest.slice(0, slash + 1));
    }
    return { folders: [...folders], hasObjects };
  }

  async get(key: string): Promise<{ body: Readable; etag: string; size: number; metadata?: Record<string, string> | undefined }> {
    this.gets.push(key);
    const failures = this.failGet.get(key);
    if (failures && failures.length > 0) throw failures.shift();
    const object = this.objects.get(key);
    if (!object) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
    return { body: Readable.from([object.body]), etag: object.etag, size: object.body.length, metadata: object.metadata };
  }

  async whoAmI() {
    return { accessKeyId: 'FAKE' };
  }

  async bucketRegion() {
    return 'us-east-1';
  }

  clockOffsetMs(): number {
    return 0;
  }

  destroy(): void {}
}
