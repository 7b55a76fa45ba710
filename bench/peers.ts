/**
 * `npm run bench:peers`: on the same objects in one run, the local-disk baseline, the pipeline a
 * script would use (`aws s3 cp --recursive` from the local S3 endpoint, then `zcat | jq -c
 * '.Records[]'`, with awscli and jq from Debian), and s3pull (parse_threads: auto). The pipeline is
 * skipped, with a message, where aws or jq is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { describeData, prepareTrail, runScript, type Measured, type TrailData } from './trail-bench.js';

const work = workDir('.data-peers');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Times the whole pipeline with bash's `time` (its children's CPU included). */
function awsAndJq(trail: TrailData): Measured & { output: string } {
  const downloaded = path.join(work, 'downloaded');
  const output = path.join(work, 'jq.ndjson');
  mkdirSync(downloaded, { recursive: true });
  const script = `TIMEFORMAT='%R %U %S'; time ( aws s3 cp --recursive --quiet --endpoint-url "$ENDPOINT" "s3://$BUCKET/$PREFIX" "$DIR" && find "$DIR" -name '*.gz' | sort | xargs zcat | jq -c '.Records[]' > "$OUT" ) 2> "$TIMES"`;
  const times = path.join(work, 'times');
  const result = spawnSync('bash', ['-c', script], {
    env: { ...process.env, ENDPOINT: trail.endpoint, BUCKET: trail.bucket, PREFIX: trail.prefix, DIR: downloaded, OUT: output, TIMES: times, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_DEFAULT_REGION: 'us-east-1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`aws s3 cp | zcat | jq exited ${result.status}`);
  const [real, user, system] = readFileSync(times, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  const events = readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
  return { events, seconds: real, cpuSeconds: user + system, maxRssKb: 0, output };
}

const rows: { name: string; result: Measured; output: string }[] = [];
const baselineOutput = path.join(work, 'baseline.ndjson');
rows.push({ name: 'baseline: local disk, gunzip + JSON.parse + line per record', result: await runScript('run-baseline', [data.objectsDir, baselineOutput]), output: baselineOutput });
let skipped: string | undefined;
const missing = ['aws', 'jq', 'zcat'].filter((command) => !has(command));
if (missing.length > 0) skipped = `aws s3 cp + zcat | jq: skipped, ${missing.join(' and ')} not installed (Debian: apt-get install awscli jq)`;
else {
  const { output, ...result } = awsAndJq(data);
  rows.push({ name: '`aws s3 cp --recursive` from local S3 (moto), then `zcat \\| jq -c .Records[]`', result, output });
}
const s3pullOutput = path.join(work, 's3pull.ndjson');
rows.push({ name: 's3pull: local S3 (moto) → file output, throttle off, parse_threads: auto', result: await runScript('run-s3pull', [data.endpoint, work, s3pullOutput]), output: s3pullOutput });
await stopMoto();

const rate = (r: Measured) => r.events / r.seconds;
console.log(`\n${describeData(data)}; node ${process.version}, ${availableParallelism()} cores (moto shares them)\n`);
console.log('| run | events | seconds | events/s | CPU s | peak RSS MB | output MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { name, result, output } of rows) {
  console.log(`| ${name} | ${result.events.toLocaleString('en')} | ${result.seconds.toFixed(2)} | ${Math.round(rate(result)).toLocaleString('en')} | ${result.cpuSeconds.toFixed(2)} | ${result.maxRssKb ? Math.round(result.maxRssKb / 1024) : '—'} | ${Math.round(statSync(output).size / 1024 / 1024)} |`);
}
if (skipped) console.log(`\n${skipped}`);
const jq = rows.find((row) => row.name.includes('jq'));
const s3pull = rows[rows.length - 1]!.result;
if (jq) console.log(`\ns3pull / aws s3 cp + jq: ${(rate(s3pull) / rate(jq.result)).toFixed(1)}× the events/s`);
for (const { name, result } of rows) {
  if (result.events !== data.events) {
    console.error(`event counts differ: expected ${data.events}, ${name}: ${result.events}`);
    process.exitCode = 1;
  }
}
rmSync(path.join(work, 'downloaded'), { recursive: true, force: true });
