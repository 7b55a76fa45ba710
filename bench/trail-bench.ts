/**
 * What bench:pull and bench:peers share: ≥200 MB of real CloudTrail records as gzip objects, on
 * local disk and in a local S3 endpoint (moto), and the runner of one measured process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { motoPid, startMoto } from '../test/helpers/moto.js';
import { buildObjects } from './data.js';
import { script } from './paths.js';

export interface Measured {
  events: number;
  seconds: number;
  /** Peak resident memory of the process; 0 where it cannot be told (a pipeline of several). */
  maxRssKb: number;
  /** User and system CPU of the whole process (every thread, every child), from the start of the pull. */
  cpuSeconds: number;
  status?: string;
}

export interface TrailData {
  /** Folder of the gzip objects on local disk. */
  objectsDir: string;
  endpoint: string;
  bucket: string;
  prefix: string;
  objects: number;
  events: number;
  uncompressedBytes: number;
  compressedBytes: number;
}

export const BENCH_BUCKET = 'bench-trail';
export const BENCH_PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/';

export async function prepareTrail(work: string, megabytes: number): Promise<TrailData> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  rmSync(work, { recursive: true, force: true });
  const objectsDir = path.join(work, 'objects');
  mkdirSync(objectsDir, { recursive: true });
  const objects = buildObjects(megabytes * 1024 * 1024, 2000);
  for (const object of objects) writeFileSync(path.join(objectsDir, path.basename(object.key)), object.gzipped);
  const endpoint = await startMoto();
  const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await s3.send(new CreateBucketCommand({ Bucket: BENCH_BUCKET }));
  for (const object of objects) await s3.send(new PutObjectCommand({ Bucket: BENCH_BUCKET, Key: object.key, Body: object.gzipped }));
  s3.destroy();
  return {
    objectsDir,
    endpoint,
    bucket: BENCH_BUCKET,
    prefix: BENCH_PREFIX,
    objects: objects.length,
    events: objects.reduce((sum, object) => sum + object.records, 0),
    uncompressedBytes: objects.reduce((sum, object) => sum + object.uncompressedBytes, 0),
    compressedBytes: objects.reduce((sum, object) => sum + object.gzipped.length, 0),
  };
}

/** Runs a bench script (`run-baseline`, `run-s3pull`) in its own process; it prints its Measured as JSON. */
export function runScript(name: string, args: string[], env: Record<string, string> = {}, profileDir?: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
    const child = spawn(process.execPath, [...profile, ...script(name), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited ${code}`))));
  });
}

export function describeData(data: TrailData): string {
  return `${data.objects} CloudTrail objects, ${data.events.toLocaleString('en')} events, ${(data.uncompressedBytes / 1024 / 1024).toFixed(0)} MB uncompressed (${(data.compressedBytes / 1024 / 1024).toFixed(1)} MB gzip)`;
}

/**
 * User and system CPU seconds the local S3 endpoint (moto) has used so far, from /proc; undefined
 * where it cannot be read. Serving the objects costs CPU on the same cores as s3pull, which the
 * local-disk baseline does not pay.
 */
export function motoCpuSeconds(): number | undefined {
  const pid = motoPid();
  if (pid === undefined) return undefined;
  try {
    // Fields after the command's closing parenthesis: state is the 3rd, utime and stime the 14th and 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticksPerSecond = 100; // USER_HZ, 100 on every Linux that Node supports
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * The same pull with one setting off and on (an environment variable of run-s3pull), `rounds`
 * runs each, alternating, each in its own process from an empty state file; the medians.
 */
export async function compareSetting(data: TrailData, work: string, variable: string, rounds: number): Promise<Record<'off' | 'on', { rate: number; cpu: number; rss: number; all: Measured[] }>> {
  const runs: Record<'off' | 'on', Measured[]> = { off: [], on: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      rmSync(path.join(work, 'state.db'), { force: true });
      const result = await runScript('run-s3pull', [data.endpoint, work, path.join(work, `${variable}-${mode}.ndjson`)], { [variable]: mode === 'on' ? '1' : '0' });
      if (result.events !== data.events) throw new Error(`${variable} ${mode}: ${result.events} events, expected ${data.events}`);
      runs[mode].push(result);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const figures = (all: Measured[]) => ({ rate: median(all.map((r) => r.events / r.seconds)), cpu: median(all.map((r) => r.cpuSeconds)), rss: median(all.map((r) => r.maxRssKb / 1024)), all });
  return { off: figures(runs.off), on: figures(runs.on) };
}

/** The comparison's medians as a Markdown table, and the difference in one line. */
export function comparisonReport(data: TrailData, rounds: number, setting: string, names: { off: string; on: string }, figures: Awaited<ReturnType<typeof compareSetting>>): string {
  const rate = (r: Measured) => Math.round(r.events / r.seconds).toLocaleString('en');
  const lines = [`\n${describeData(data)}; ${rounds} runs each, alternating; medians\n`, `| ${setting} | events/s | CPU s | peak RSS MB | all runs, events/s |`, '| --- | ---: | ---: | ---: | --- |'];
  for (const mode of ['off', 'on'] as const) {
    const f = figures[mode];
    lines.push(`| ${names[mode]} | ${Math.round(f.rate).toLocaleString('en')} | ${f.cpu.toFixed(2)} | ${Math.round(f.rss)} | ${f.all.map(rate).join(', ')} |`);
  }
  const { off, on } = figures;
  lines.push(`\n${setting} on: ${((on.rate / off.rate - 1) * 100).toFixed(1)} % events/s, ${((on.cpu / off.cpu - 1) * 100).toFixed(1)} % CPU`);
  return lines.join('\n');
}
