/**
 * `npm run bench:sqs`: 10,000 CloudTrail objects (BENCH_OBJECTS) pulled by the compiled CLI
 * (`node dist/cli/main.js once`), side by side in one run: polling the prefix, one process on an
 * SQS queue of their notifications, and three processes sharing such a queue. The objects are in
 * moto; the messages are moto's own notification of the first upload, with the key of each
 * object, on one queue per run so that every run gets the same messages. The queues are in memory (bench/memory-sqs.ts), since
 * moto's ReceiveMessage alone takes ~240 ms a call here; BENCH_MOTO_SQS=1 adds the same two runs
 * on moto's queues. Objects/s and events/s are measured from start to the last process's exit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { startMoto, stopMoto } from '../test/helpers/moto.js';
import { startMemorySqs } from './memory-sqs.js';
import { cloudTrailFile, trailKey } from '../test/helpers/s3.js';
import { root, workDir } from './paths.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const cli = path.join(root, 'dist', 'cli', 'main.js');
const work = workDir('.data-sqs');
const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const EVENTS = Number(process.env.BENCH_EVENTS_PER_OBJECT ?? 20);

if (!existsSync(cli)) throw new Error('dist/ is missing: npm run build first (npm run bench:sqs does)');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const endpoint = await startMoto();
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials });

const queue = async (name: string) => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: QueueUrl!, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
};

await s3.send(new CreateBucketCommand({ Bucket: 'bench-trail' }));
const keyOf = (index: number) => trailKey('2026/11/23', `20261123T${String(1000 + Math.floor(index / 600)).padStart(4, '0')}Z`, `b${String(index).padStart(5, '0')}`);
const body = cloudTrailFile('bench', EVENTS);
// One notification as moto sends it, the template of the others: reading 10,000 messages back
// off moto's queue would take longer than the benchmark (its receive slows with the queue's size).
const notified = await queue('bench-notifications');
await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'bench-trail', NotificationConfiguration: { QueueConfigurations: [{ QueueArn: notified.arn, Events: ['s3:ObjectCreated:*'] }] } }));
await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: keyOf(0), Body: body }));
let template: string | undefined;
while (!template) {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: notified.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  template = Messages?.map((message) => message.Body ?? '').find((text) => text.includes('ObjectCreated'));
}
await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'bench-trail', NotificationConfiguration: {} }));
let next = 1;
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < OBJECTS) {
      const index = next++;
      await s3.send(new PutObjectCommand({ Bucket: 'bench-trail', Key: keyOf(index), Body: body }));
    }
  }),
);
const encodedFirst = JSON.parse(template).Records[0].s3.object.key as string;
// S3 form-encodes the key (moto also writes `/` as %2F), as encodeURIComponent with `+` for spaces.
const bodies = Array.from({ length: OBJECTS }, (_, index) => template!.replace(encodedFirst, encodeURIComponent(keyOf(index)).replaceAll('%20', '+')));
const memory = await startMemorySqs();
const memorySqs = new SQSClient({ region: 'us-east-1', endpoint: memory.endpoint, credentials });
const fill = async (client: SQSClient, url: string) => {
  for (let offset = 0; offset < bodies.length; offset += 10) {
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.slice(offset, offset + 10).map((text, index) => ({ Id: String(index), MessageBody: text })) }));
  }
  return url;
};
const oneQueue = await fill(memorySqs, memory.queueUrl('bench-one'));
const threeQueue = await fill(memorySqs, memory.queueUrl('bench-three'));
const onMoto = process.env.BENCH_MOTO_SQS === '1';
const motoOne = onMoto ? await fill(sqs, (await queue('bench-one')).url) : '';
const motoThree = onMoto ? await fill(sqs, (await queue('bench-three')).url) : '';
s3.destroy();
sqs.destroy();
memorySqs.destroy();

const common = `region: us-east-1\nendpoint: ${endpoint}\npath_style: true\nauth: { type: access_key, access_key_id: bench, secret_access_key: bench }\nformat: cloudtrail\neps_throttle: 0\nconcurrency: 4\n`;

function configDir(name: string, source: string): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'sources.d'), { recursive: true });
  writeFileSync(path.join(dir, 's3pull.yaml'), `state: ${path.join(dir, 'state.db')}\noutput: { type: file, path: ${path.join(dir, 'events.ndjson')} }\nlog: { level: warn }\n`);
  writeFileSync(path.join(dir, 'sources.d', 'bench.yaml'), `id: bench\n${common}${source}`);
  return dir;
}

function once(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'once', '--no-progress', '--config', dir], { stdio: ['ignore', 'ignore', 'inherit'], env: process.env });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`s3pull once (${dir}) exited ${code}`))));
  });
}

function lines(dir: string): number {
  const file = path.join(dir, 'events.ndjson');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

async function measure(name: string, dirs: string[]): Promise<{ name: string; seconds: number; events: number }> {
  const started = process.hrtime.bigint();
  await Promise.all(dirs.map(once));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, seconds, events: dirs.reduce((sum, dir) => sum + lines(dir), 0) };
}

const prefix = 'prefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nbucket: bench-trail\n';
const sqsSource = (url: string) => `collection: { type: sqs, queue_url: ${url}, wait_time: 1s, workers: 16 }\n`;
const results = [
  await measure('polling the prefix (1 process)', [configDir('poll', prefix)]),
  await measure('SQS (queue in memory), 1 process', [configDir('sqs-one', sqsSource(oneQueue))]),
  await measure('SQS (queue in memory), 3 processes on one queue', [0, 1, 2].map((index) => configDir(`sqs-three-${index}`, sqsSource(threeQueue)))),
];
if (onMoto) {
  results.push(await measure("SQS (moto's queue), 1 process", [configDir('moto-one', sqsSource(motoOne))]));
  results.push(await measure("SQS (moto's queue), 3 processes on one queue", [0, 1, 2].map((index) => configDir(`moto-three-${index}`, sqsSource(motoThree)))));
}
await stopMoto();
await memory.close();

const expected = OBJECTS * EVENTS;
console.log(`\n${OBJECTS.toLocaleString('en')} CloudTrail objects of ${EVENTS} events (${(body.length / 1024).toFixed(1)} KB gzip each), compiled CLI, file output, throttle off, concurrency 4; node ${process.version}\n`);
console.log('| run | seconds | objects/s | events/s | events delivered |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const result of results) {
  console.log(`| ${result.name} | ${result.seconds.toFixed(1)} | ${Math.round(OBJECTS / result.seconds).toLocaleString('en')} | ${Math.round(expected / result.seconds).toLocaleString('en')} | ${result.events.toLocaleString('en')} |`);
  if (result.events < expected) {
    console.error(`${result.name}: ${result.events} of ${expected} events`);
    process.exitCode = 1;
  }
}
