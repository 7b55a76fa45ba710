/**
 * `npm run bench`: s3pull pulling ≥200 MB of uncompressed CloudTrail from a local S3 endpoint
 * (moto) into the file output, throttle off, side by side in one run with a baseline that reads
 * the same objects from local disk (gunzip + JSON.parse + one line per record). Each side runs in
 * its own process so that its peak RSS is its own.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { buildObjects } from './data.js';
import { script, workDir } from './paths.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const work = workDir('.data');
const megabytes = Number(process.env.BENCH_MB ?? 200);

rmSync(work, { recursive: true, force: true });
mkdirSync(path.join(work, 'objects'), { recursive: true });

const objects = buildObjects(megabytes * 1024 * 1024, 2000);
const uncompressed = objects.reduce((sum, object) => sum + object.uncompressedBytes, 0);
const compressed = objects.reduce((sum, object) => sum + object.gzipped.length, 0);
const events = objects.reduce((sum, object) => sum + object.records, 0);
for (const object of objects) writeFileSync(path.join(work, 'objects', path.basename(object.key)), object.gzipped);

const endpoint = await startMoto();
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
for (const object of objects) await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: object.key, Body: object.gzipped }));
s3.destroy();

function run(name: string, args: string[]): Promise<{ events: number; seconds: number; maxRssKb: number; status?: string }> {
  return new Promise((resolve, reject) => {
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', work] : [];
    const child = spawn(process.execPath, [...profile, ...script(name), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited ${code}`))));
  });
}

const baseline = await run('run-baseline', [path.join(work, 'objects'), path.join(work, 'baseline.ndjson')]);
const s3pull = await run('run-s3pull', [endpoint, work, path.join(work, 's3pull.ndjson')]);
await stopMoto();

const mb = uncompressed / 1024 / 1024;
const row = (name: string, r: { events: number; seconds: number; maxRssKb: number }, outFile: string) =>
  `| ${name} | ${r.events.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${Math.round(r.events / r.seconds).toLocaleString('en')} | ${(mb / r.seconds).toFixed(1)} | ${Math.round(r.maxRssKb / 1024)} | ${Math.round(statSync(outFile).size / 1024 / 1024)} |`;
console.log(`\n${objects.length} CloudTrail objects, ${events.toLocaleString('en')} events, ${mb.toFixed(0)} MB uncompressed (${(compressed / 1024 / 1024).toFixed(1)} MB gzip); node ${process.version}\n`);
console.log('| run | events | seconds | events/s | MB/s (uncompressed) | peak RSS MB | output MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(row('baseline: local disk, gunzip + JSON.parse + line per record', baseline, path.join(work, 'baseline.ndjson')));
console.log(row(`s3pull: local S3 (moto) → file output, throttle off, concurrency ${process.env.BENCH_CONCURRENCY ?? 4}`, s3pull, path.join(work, 's3pull.ndjson')));
console.log(`\ns3pull / baseline: ${((events / s3pull.seconds) / (events / baseline.seconds)).toFixed(2)}× the baseline's events/s`);
if (s3pull.events !== events || baseline.events !== events) {
  console.error(`event counts differ: expected ${events}, baseline ${baseline.events}, s3pull ${s3pull.events}`);
  process.exitCode = 1;
}
