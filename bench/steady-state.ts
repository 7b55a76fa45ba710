/**
 * `npm run bench:steady`: the cost of a steady-state poll. A bucket holds BENCH_OBJECTS objects
 * (100,000 by default) already behind the marker, and 20 new ones arrive; the poll's LIST
 * requests are counted at the endpoint (a counting forwarder in front of moto) and its CPU time
 * measured, side by side with a full listing of the same prefix (what a collector without a
 * marker pays on every poll).
 */
import path from 'node:path';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { startForwarder } from '../test/helpers/forwarder.js';
import { sourceSchema } from '../src/config/schema.js';
import { openSqliteStore } from '../src/state/sqlite-store.js';
import { createS3Bucket, s3BucketOptionsFor } from '../src/aws/s3-bucket.js';
import { pollSource } from '../src/poll/poll-source.js';
import { FileSink } from '../src/sinks/file.js';
import { silentLogger } from '../src/log/logger.js';
import { systemClock, type Clock } from '../src/util/clock.js';
import type { LoadedSource } from '../src/config/load.js';
import { workDir } from './paths.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const work = workDir('.data-steady');
const total = Number(process.env.BENCH_OBJECTS ?? 100_000);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const endpoint = await startMoto();
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
const prefix = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
const keyOf = (index: number) => {
  const minute = Math.floor(index / 10);
  const day = 1 + Math.floor(minute / 1440);
  const time = `${String(Math.floor((minute % 1440) / 60)).padStart(2, '0')}${String(minute % 60).padStart(2, '0')}`;
  return `${prefix}2026/11/${String(day).padStart(2, '0')}/111122223333_CloudTrail_us-east-1_202611${String(day).padStart(2, '0')}T${time}Z_${String(index).padStart(16, '0')}.json.gz`;
};
const body = Buffer.from('{"Records":[{"eventID":"x"}]}');
const started = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < total) {
      const index = next++;
      await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: keyOf(index), Body: body }));
    }
  }),
);
process.stderr.write(`uploaded ${total} objects in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

const forwarder = await startForwarder(endpoint);
const source: LoadedSource = {
  ...sourceSchema.parse({
    id: 'bench',
    bucket: 'bench-trail',
    prefix,
    region: 'us-east-1',
    endpoint: forwarder.url,
    path_style: true,
    auth: { type: 'access_key', access_key_id: 'bench', secret_access_key: 'bench' },
    format: 'cloudtrail',
    eps_throttle: 0,
  }),
  file: 'bench',
  proxy: 'none',
};
const store = openSqliteStore(path.join(work, 'state.db'));
const sink = new FileSink(path.join(work, 'events.ndjson'));
const bucket = createS3Bucket(s3BucketOptionsFor(source));
const later: Clock = { now: () => Date.now() + 2 * 3_600_000, sleep: systemClock.sleep };

// The history: every existing object is behind the marker (pulled long ago; here, skipped as
// older than the source's start, which costs the same listing and no downloads).
const since = new Date(Date.now() + 1000);
const catchUp = { ...source, start: { since } };
await pollSource(catchUp, { store, sink, bucket, clock: later, log: silentLogger }, new AbortController().signal);
// LastModified has one-second resolution: the new objects must be visibly newer than the start.
while (Date.now() < since.getTime() + 1000) await new Promise((resolve) => setTimeout(resolve, 100));

for (let index = total; index < total + 20; index += 1) await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: keyOf(index), Body: body }));
const lists = () => forwarder.requests.filter((request) => request.path.includes('list-type=2')).length;

forwarder.requests.length = 0;
const cpu = process.cpuUsage();
const wall = Date.now();
const steady = await pollSource({ ...catchUp, start: 'beginning' }, { store, sink, bucket, clock: systemClock, log: silentLogger }, new AbortController().signal);
const steadyCpu = process.cpuUsage(cpu);
const steadyWall = Date.now() - wall;
const steadyLists = lists();

forwarder.requests.length = 0;
const fullCpu0 = process.cpuUsage();
const fullWall0 = Date.now();
let fullKeys = 0;
for await (const page of bucket.listPages(prefix, undefined, new AbortController().signal)) fullKeys += page.length;
const fullCpu = process.cpuUsage(fullCpu0);
const fullWall = Date.now() - fullWall0;
const fullLists = lists();

bucket.destroy();
await sink.close();
const sizeOf = (file: string) => { try { return statSync(file).size; } catch { return 0; } };
const dbBytes = sizeOf(path.join(work, 'state.db')) + sizeOf(path.join(work, 'state.db-wal'));
store.close();
await forwarder.close();
s3.destroy();
await stopMoto();

console.log(`\n${total.toLocaleString('en')} objects behind the marker, 20 new; node ${process.version}\n`);
console.log('| run | LIST requests | keys listed | collector CPU ms | wall ms |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(`| s3pull steady-state poll (marker + late window) | ${steadyLists} | ${steady.objectsDone} pulled | ${Math.round((steadyCpu.user + steadyCpu.system) / 1000)} | ${steadyWall} |`);
console.log(`| full listing of the same prefix | ${fullLists} | ${fullKeys.toLocaleString('en')} | ${Math.round((fullCpu.user + fullCpu.system) / 1000)} | ${fullWall} |`);
console.log(`\nstate file (with its WAL): ${(dbBytes / 1024 / 1024).toFixed(1)} MB for ${total.toLocaleString('en')} ledger rows (pruned after history_retention, 7 days by default)`);
if (steady.objectsDone !== 20) {
  console.error(`expected 20 new objects, pulled ${steady.objectsDone}`);
  process.exitCode = 1;
}
rmSync(work, { recursive: true, force: true });
