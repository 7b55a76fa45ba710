#!/usr/bin/env node
// `npm start`: brings up a local S3 endpoint (s3rver on 127.0.0.1:4568) with sample CloudTrail
// and VPC flow logs, runs `s3pull once` on the shipped conf/, and shows what arrived.
// No AWS account is needed. Run it again: only the object added by the new run is pulled.
import { spawn } from 'node:child_process';
import { once as onceEvent } from 'node:events';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import S3rver from 's3rver';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'test', 'fixtures');
const port = Number(process.env.S3PULL_DEMO_PORT ?? 4568);
const account = '111122223333';
const day = '2026/11/23';

const dataDir = path.join(root, 'var', 'demo-s3');
mkdirSync(dataDir, { recursive: true });
const server = new S3rver({
  address: '127.0.0.1',
  port,
  silent: true,
  directory: dataDir,
  configureBuckets: [{ name: 'demo-trail' }, { name: 'demo-flow' }],
});
await server.run();
console.log(`local S3 endpoint: http://127.0.0.1:${port} (s3rver, data in var/demo-s3)`);

const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: `http://127.0.0.1:${port}`,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
});
const put = (Bucket, Key, Body) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
const suffix = (text) => createHash('sha256').update(text).digest('base64url').replace(/[-_]/g, 'x').slice(0, 16);

// CloudTrail: each Stratus Red Team detonation becomes one CloudTrail file, named as CloudTrail names them.
const trailPrefix = `AWSLogs/${account}/CloudTrail/us-east-1/${day}/`;
const stratus = path.join(fixtures, 'cloudtrail', 'stratus-red-team');
let minute = 0;
for (const file of readdirSync(stratus).sort()) {
  const records = JSON.parse(readFileSync(path.join(stratus, file), 'utf8'));
  const time = `20261123T${String(10 + Math.floor(minute / 60)).padStart(2, '0')}${String(minute % 60).padStart(2, '0')}Z`;
  minute += 5;
  await put('demo-trail', `${trailPrefix}${account}_CloudTrail_us-east-1_${time}_${suffix(file)}.json.gz`, gzipSync(JSON.stringify({ Records: records })));
}
// Skipped on purpose: a digest file, an empty object and a folder key.
await put('demo-trail', `AWSLogs/${account}/CloudTrail-Digest/us-east-1/${day}/${account}_CloudTrail-Digest_us-east-1_20261123T1000Z.json.gz`, gzipSync('{}'));
await put('demo-trail', `${trailPrefix}${account}_CloudTrail_us-east-1_20261123T0000Z_empty0000000000.json.gz`, Buffer.alloc(0));
// A new file on every run, to show that a second run pulls only what is new.
const now = new Date();
const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 13) + 'Z';
await put(
  'demo-trail',
  `${trailPrefix}${account}_CloudTrail_us-east-1_${stamp}_${suffix(now.toISOString())}.json.gz`,
  gzipSync(JSON.stringify({ Records: [{ eventVersion: '1.08', eventTime: now.toISOString(), eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', awsRegion: 'us-east-1', sourceIPAddress: '192.0.2.10', eventID: suffix(stamp), recipientAccountId: account, responseElements: { ConsoleLogin: 'Success' } }] })),
);

// VPC flow logs: default and custom formats.
const flowPrefix = `AWSLogs/${account}/vpcflowlogs/us-east-1/${day}/`;
for (const file of ['accept-reject-traffic.log', 'ipv6.log', 'tcp-flag-sequence.log', 'vpcflow.log.gz']) {
  const bytes = readFileSync(path.join(fixtures, 'vpcflow', file));
  await put('demo-flow', `${flowPrefix}${account}_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261123T1000Z_${suffix(file)}.log.gz`, file.endsWith('.gz') ? bytes : gzipSync(bytes));
}
s3.destroy();

const cli = path.join(root, 'bin', 's3pull');
// The endpoint runs in this process, so the CLI must run beside it, not block it.
// The shipped sources read the endpoint's credentials from the environment, as real sources
// should; s3rver's are fixed and public, so the demo sets them here.
const demoEnv = { ...process.env, S3PULL_DEMO_KEY_ID: 'S3RVER', S3PULL_DEMO_SECRET: 'S3RVER' };
async function s3pull(...args) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit', env: demoEnv });
  const [code] = await onceEvent(child, 'exit');
  return code;
}
if (!existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm ci` (it builds s3pull) and try again');
  process.exitCode = 1;
} else {
  console.log('\n$ s3pull once --config conf');
  const status = await s3pull('once', '--config', path.join(root, 'conf'));
  const eventsFile = path.join(root, 'var', 'events.ndjson');
  if (existsSync(eventsFile)) {
    const lines = readFileSync(eventsFile, 'utf8').trimEnd().split('\n');
    console.log(`\nvar/events.ndjson holds ${lines.length} events; the last two:`);
    for (const line of lines.slice(-2)) console.log(line.length > 400 ? `${line.slice(0, 400)}…` : line);
  }
  console.log('\n$ s3pull sources --config conf');
  await s3pull('sources', '--config', path.join(root, 'conf'));
  console.log('\nRun `npm start` again: only the file added by that run is pulled. `s3pull marker reset demo-cloudtrail --beginning` pulls everything again.');
  process.exitCode = status ?? 1;
}
await server.close();
