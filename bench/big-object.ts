/**
 * `npm run bench:big`: peak memory while pulling ONE CloudTrail object of ~1 GB uncompressed,
 * side by side with the naive approach (gunzip the whole object, JSON.parse it whole). Each in its
 * own process so that its peak RSS is its own.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { script, workDir } from './paths.js';
import { loadSamples } from './data.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const work = workDir('.data-big');
const targetBytes = Number(process.env.BENCH_BIG_MB ?? 1024) * 1024 * 1024;
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// Real records in turn, each with its own eventID, streamed into a gzip file: ~1.3 KB a record,
// compressing ~6:1 like real CloudTrail (a record repeated would compress 140:1 and flatter).
const samples = loadSamples().map((record) => JSON.stringify({ ...record, eventID: undefined }).replace(/^\{/, ''));
let records = 0;
async function* document() {
  yield '{"Records":[';
  let written = 12;
  while (written < targetBytes) {
    const batch: string[] = [];
    for (let i = 0; i < 1000; i += 1) {
      batch.push(`{"eventID":"big-${records}",${samples[records % samples.length]}`);
      records += 1;
    }
    const text = (written > 12 ? ',' : '') + batch.join(',');
    written += text.length;
    yield text;
  }
  yield ']}';
}
const gzFile = path.join(work, 'big.json.gz');
await pipeline(Readable.from(document()), createGzip(), createWriteStream(gzFile));
const uncompressedMb = targetBytes / 1024 / 1024;
const gzMb = statSync(gzFile).size / 1024 / 1024;

const endpoint = await startMoto();
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/big.json.gz', Body: createReadStream(gzFile), ContentLength: statSync(gzFile).size }));
s3.destroy();

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

const naive = await run([
  '-e',
  `const { gunzipSync } = require('node:zlib'); const fs = require('node:fs');
   const started = Date.now(); let events = 0, error = null;
   try { const doc = JSON.parse(gunzipSync(fs.readFileSync(${JSON.stringify(gzFile)})).toString('utf8')); events = doc.Records.length; }
   catch (e) { error = e.message; }
   process.stdout.write(JSON.stringify({ events, error, seconds: (Date.now() - started) / 1000, maxRssKb: process.resourceUsage().maxRSS }));`,
]);
const s3pull = await run([...script('run-s3pull'), endpoint, work, path.join(work, 'out.ndjson')]);
await stopMoto();

const parse = (r: { code: number | null; out: string; err: string }) => (r.out ? JSON.parse(r.out) : { error: r.err.split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.code}` });
const n = parse(naive);
const p = parse(s3pull);
console.log(`\none CloudTrail object: ${records.toLocaleString('en')} records, ${uncompressedMb.toFixed(0)} MB uncompressed, ${gzMb.toFixed(0)} MB gzip; node ${process.version}\n`);
const perSecond = (r: { events?: number; seconds?: number; error?: string }) => (r.events && r.seconds && !r.error ? Math.round(r.events / r.seconds).toLocaleString('en') : '-');
console.log('| run | events | seconds | events/s | peak RSS MB | result |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
console.log(`| naive: gunzip whole + JSON.parse whole | ${(n.events ?? 0).toLocaleString('en')} | ${n.seconds ?? '-'} | ${perSecond(n)} | ${n.maxRssKb ? Math.round(n.maxRssKb / 1024) : '-'} | ${n.error ? `fails: ${n.error}` : 'ok'} |`);
console.log(`| s3pull: streamed from local S3 into the file output (parse_threads: auto) | ${(p.events ?? 0).toLocaleString('en')} | ${p.seconds?.toFixed(1) ?? '-'} | ${perSecond(p)} | ${p.maxRssKb ? Math.round(p.maxRssKb / 1024) : '-'} | ${p.status ?? p.error} |`);
if (p.events !== records) {
  console.error(`s3pull delivered ${p.events} of ${records} events`);
  process.exitCode = 1;
}
rmSync(work, { recursive: true, force: true });
