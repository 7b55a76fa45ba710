/**
 * `npm run bench:outputs`: the same CloudTrail objects pulled from a local S3 endpoint (moto) into
 * each output, side by side in one run, the file output being the baseline: syslog over TCP, RELP
 * and TLS into a real rsyslog, the http output (gzipped NDJSON and Elasticsearch _bulk shapes) into a
 * local receiver, and the file output with dedup on. Each run is its own process with its own
 * state file, so its peak RSS is its own.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { startRsyslog } from '../test/helpers/rsyslog.js';
import { startHttpReceiver } from '../test/helpers/http-receiver.js';
import { makeTestCa } from '../test/helpers/tls.js';
import { buildObjects } from './data.js';
import { script, workDir } from './paths.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const work = workDir('.data-outputs');
const megabytes = Number(process.env.BENCH_MB ?? 50);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const objects = buildObjects(megabytes * 1024 * 1024, 2000);
const events = objects.reduce((sum, object) => sum + object.records, 0);
const uncompressed = objects.reduce((sum, object) => sum + object.uncompressedBytes, 0);

const endpoint = await startMoto();
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
for (const object of objects) await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: object.key, Body: object.gzipped }));
s3.destroy();

const ca = makeTestCa();
const rsyslog = await startRsyslog(ca);
const receiver = await startHttpReceiver();
// The receiver keeps only counts: holding 200 MB of bodies would measure the receiver, not s3pull.
let received = 0;
receiver.answer = (request) => {
  const lines = request.body.split('\n').filter(Boolean).length;
  received += request.url.startsWith('/_bulk') ? lines / 2 : lines;
  receiver.requests.length = 0;
  return { status: 200, body: { errors: false, items: [] } };
};

interface RunResult {
  events: number;
  seconds: number;
  maxRssKb: number;
  status: string;
}

function run(name: string, env: Record<string, string>): Promise<RunResult> {
  const dir = path.join(work, name.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...script('run-s3pull'), endpoint, dir, path.join(dir, 'events.ndjson')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited ${code}`))));
  });
}

const runs: [string, Record<string, string>][] = [
  ['file (baseline)', {}],
  ['file, dedup on', { BENCH_DEDUP: '1' }],
  ['syslog tcp → rsyslog', { BENCH_OUTPUT: JSON.stringify({ type: 'syslog', host: '127.0.0.1', port: rsyslog.tcpPort }) }],
  ['syslog relp → rsyslog (acknowledged)', { BENCH_OUTPUT: JSON.stringify({ type: 'syslog', transport: 'relp', host: '127.0.0.1', port: rsyslog.relpPort }) }],
  ['syslog tls → rsyslog', { BENCH_OUTPUT: JSON.stringify({ type: 'syslog', transport: 'tls', host: 'localhost', port: rsyslog.tlsPort }), BENCH_CA: path.join(ca.dir, 'ca.pem') }],
  ['http ndjson, gzip → local receiver', { BENCH_OUTPUT: JSON.stringify({ type: 'http', url: receiver.url }) }],
  ['http elasticsearch _bulk, gzip → local receiver', { BENCH_OUTPUT: JSON.stringify({ type: 'http', url: receiver.url, shape: 'elasticsearch' }) }],
];
const results: [string, RunResult][] = [];
for (const [name, env] of runs) results.push([name, await run(name, env)]);

await rsyslog.waitForMessages(events * 3);
await rsyslog.stop();
await receiver.close();
await stopMoto();

const mb = uncompressed / 1024 / 1024;
console.log(`\n${objects.length} CloudTrail objects, ${events.toLocaleString('en')} events, ${mb.toFixed(0)} MB uncompressed; node ${process.version}; concurrency 4, throttle off\n`);
console.log('| output | events | seconds | events/s | vs file | peak RSS MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const base = results[0]![1];
for (const [name, result] of results) {
  console.log(`| ${name} | ${result.events.toLocaleString('en')} | ${result.seconds.toFixed(2)} | ${Math.round(result.events / result.seconds).toLocaleString('en')} | ${(base.seconds / result.seconds).toFixed(2)}× | ${Math.round(result.maxRssKb / 1024)} |`);
}
const bad = results.filter(([, result]) => result.events !== events || result.status !== 'ok');
if (bad.length > 0 || received !== events * 2) {
  console.error(`incomplete: ${bad.map(([name]) => name).join(', ')}; http receiver counted ${received} of ${events * 2}`);
  process.exitCode = 1;
}
