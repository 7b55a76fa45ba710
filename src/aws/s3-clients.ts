/**
 * S3 clients per bucket and region, made on first use and kept: one queue can name objects of
 * several buckets in several regions, and each bucket needs a client of its own region (SigV4
 * signs the region; a virtual-hosted client names its bucket). A prefix source uses one.
 */
import type { FetchedObject, ObjectGetter, ObjectRef, S3Bucket } from './types.js';
import { createS3Bucket, type S3BucketOptions } from './s3-bucket.js';

export type ClientSettings = Omit<S3BucketOptions, 'bucket'>;

export class S3Clients implements ObjectGetter {
  private readonly clients = new Map<string, S3Bucket>();

  constructor(
    private readonly settings: ClientSettings,
    private readonly create: (options: S3BucketOptions) => S3Bucket = createS3Bucket,
  ) {}

  /** The client of one bucket; `region` defaults to the source's. */
  bucket(name: string, region: string = this.settings.region): S3Bucket {
    const id = `${region}\u0000${name}`;
    let client = this.clients.get(id);
    if (!client) {
      client = this.create({ ...this.settings, bucket: name, region });
      this.clients.set(id, client);
    }
    return client;
  }

  get(object: ObjectRef, signal: AbortSignal): Promise<FetchedObject> {
    // A notification names the bucket's region; a listing's objects are in the source's.
    const region = this.settings.region === 'auto' || !object.region ? this.settings.region : object.region;
    return this.bucket(object.bucket, region).get(object.key, signal, object.etag || undefined, object.versionId);
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/** The getter of a single bucket (a test's fake, or the client of a prefix source). */
export function singleBucketGetter(bucket: S3Bucket): ObjectGetter {
  return {
    get: (object, signal) => bucket.get(object.key, signal, object.etag || undefined, object.versionId),
  };
}
