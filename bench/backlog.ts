/**
 * `npm run bench:backlog`: a backlog of 10,000 small CloudTrail objects (a collector that was down
 * for a while), pulled with concurrency 1 and with concurrency 8, side by side: with enough
 * objects in flight the pull is bound by parsing and writing, not by each request's round trip.
 */
import path from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { sourceSchema } from '../src/config/schema.js';
import { openSqliteStore } from '../src/state/sqlite-store.js';
import { createS3Bucket, s3BucketOptionsFor } from '../src/aws/s3-bucket.js';
import { pollSource } from '../src/poll/poll-source.js';
import { FileSink } from '../src/sinks/file.js';
import { silentLogger } from '../src/log/logger.js';
import { systemClock } from '../src/util/clock.js';
import type { LoadedSource } from '../src/config/load.js';
import { workDir } from './paths.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const work = workDir('.data-backlog');
const total = Number(process.env.BENCH_BACKLOG ?? 10_000);
const perObject = 20;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const endpoint = await startMoto();
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
const prefix = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/';
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < total) {
      const index = next++;
      const records = Array.from({ length: perObject }, (_, i) => ({ eventID: `${index}-${i}`, eventTime: '2026-11-23T10:00:00Z', eventName: 'GetObject', eventSource: 's3.amazonaws.com' }));
      await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: `${prefix}${String(index).padStart(8, '0')}.json.gz`, Body: gzipSync(JSON.stringify({ Records: records })) }));
    }
  }),
);
s3.destroy();

async function pull(concurrency: number) {
  const dir = path.join(work, `c${concurrency}`);
  mkdirSync(dir, { recursive: true });
  const source: LoadedSource = {
    ...sourceSchema.parse({ id: 'bench', bucket: 'bench-trail', prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/', region: 'us-east-1', endpoint, path_style: true, auth: { type: 'access_key', access_key_id: 'bench', secret_access_key: 'bench' }, format: 'cloudtrail', eps_throttle: 0, concurrency }),
    file: 'bench',
    proxy: 'none',
  };
  const store = openSqliteStore(path.join(dir, 'state.db'));
  const sink = new FileSink(path.join(dir, 'events.ndjson'));
  const bucket = createS3Bucket(s3BucketOptionsFor(source));
  const started = process.hrtime.bigint();
  const result = await pollSource(source, { store, sink, bucket, clock: systemClock, log: silentLogger }, new AbortController().signal);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  bucket.destroy();
  await sink.close();
  store.close();
  return { concurrency, seconds, objects: result.objectsDone, events: result.events };
}

const rows = [await pull(1), await pull(8)];
await stopMoto();
console.log(`\nbacklog of ${total.toLocaleString('en')} objects (${perObject} events each) on a local S3 (moto); node ${process.version}\n`);
console.log('| concurrency | seconds | objects/s | events/s |');
console.log('| ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(`| ${row.concurrency} | ${row.seconds.toFixed(1)} | ${Math.round(row.objects / row.seconds)} | ${Math.round(row.events / row.seconds).toLocaleString('en')} |`);
console.log(`\nconcurrency 8 / concurrency 1: ${(rows[0]!.seconds / rows[1]!.seconds).toFixed(2)}× faster`);
if (rows.some((row) => row.objects !== total)) process.exitCode = 1;
rmSync(work, { recursive: true, force: true });
