/** Test-side S3 access (seeding buckets); the collector's own code never uses this. */
import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { motoEndpoint } from './moto.js';

export function testS3(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: motoEndpoint(),
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

export async function createBucket(bucket: string): Promise<void> {
  const s3 = testS3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
}

export async function putObjects(bucket: string, objects: { key: string; body: Buffer | string; metadata?: Record<string, string> }[], concurrency = 16): Promise<void> {
  const s3 = testS3();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objects.length) {
        const object = objects[next++]!;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: object.key, Body: typeof object.body === 'string' ? Buffer.from(object.body) : object.body, ...(object.metadata ? { Metadata: object.metadata } : {}) }));
      }
    }),
  );
  s3.destroy();
}

export async function deleteObject(bucket: string, key: string): Promise<void> {
  const s3 = testS3();
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  s3.destroy();
}

/** A gzipped CloudTrail file whose records carry `marker` and their index, to check delivery. */
export function cloudTrailFile(marker: string, records: number): Buffer {
  return gzipSync(
    JSON.stringify({
      Records: Array.from({ length: records }, (_, index) => ({
        eventVersion: '1.08',
        eventTime: '2026-11-23T10:00:00Z',
        eventSource: 's3.amazonaws.com',
        eventName: 'GetObject',
        eventID: `${marker}-${index}`,
        recipientAccountId: '111122223333',
      })),
    }),
  );
}

export const TRAIL_PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/';

/** A key as CloudTrail names its files: time, then a random-looking suffix. */
export function trailKey(day: string, time: string, suffix: string): string {
  return `${TRAIL_PREFIX}${day}/111122223333_CloudTrail_us-east-1_${time}_${suffix}.json.gz`;
}
