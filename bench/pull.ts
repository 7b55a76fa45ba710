/**
 * `npm run bench`: s3pull pulling ≥200 MB of uncompressed CloudTrail from a local S3 endpoint
 * (moto) into the file output, throttle off, side by side in one run with a baseline that reads
 * the same objects from local disk (gunzip + JSON.parse + one line per record): s3pull with its
 * parsing on the main thread, and with parse threads (parse_threads: auto) where there is more
 * than one core. Each run is its own process, so that its peak RSS and CPU are its own; CPU is
 * of the whole process (every thread), from the start of the pull.
 */
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { describeData, motoCpuSeconds, prepareTrail, runScript, type Measured } from './trail-bench.js';
import { parseThreadCount } from '../src/pipeline/parse-threads.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const profileDir = process.env.BENCH_CPU_PROF ? work : undefined;

const concurrency = process.env.BENCH_CONCURRENCY ?? '4';
const autoThreads = parseThreadCount('auto');
const runs: { name: string; result: Measured; output: string; motoCpu?: number }[] = [];
const baselineOutput = path.join(work, 'baseline.ndjson');
runs.push({ name: 'baseline: local disk, gunzip + JSON.parse + line per record', result: await runScript('run-baseline', [data.objectsDir, baselineOutput], {}, profileDir), output: baselineOutput });
// Each s3pull run starts from an empty state file and output.
for (const threads of autoThreads > 0 ? [0, autoThreads] : [0]) {
  rmSync(path.join(work, 'state.db'), { force: true });
  const output = path.join(work, `s3pull-${threads}.ndjson`);
  const label = threads === 0 ? 'parse_threads: 0 (all on the main thread)' : `parse_threads: auto (${threads} threads)`;
  const motoBefore = motoCpuSeconds();
  const result = await runScript('run-s3pull', [data.endpoint, work, output], { BENCH_THREADS: String(threads) }, profileDir);
  const motoAfter = motoCpuSeconds();
  const motoCpu = motoBefore !== undefined && motoAfter !== undefined ? motoAfter - motoBefore : undefined;
  runs.push({ name: `s3pull: local S3 (moto) → file output, throttle off, concurrency ${concurrency}, ${label}`, result, output, motoCpu });
}
await stopMoto();

const baseline = runs[0]!.result;
const rate = (r: Measured) => r.events / r.seconds;
const row = ({ name, result: r, output, motoCpu }: (typeof runs)[number]) =>
  `| ${name} | ${r.events.toLocaleString('en')} | ${r.seconds.toFixed(2)} | ${Math.round(rate(r)).toLocaleString('en')} | ${(rate(r) / rate(baseline)).toFixed(2)}× | ${r.cpuSeconds.toFixed(2)} | ${(r.cpuSeconds / r.events / (baseline.cpuSeconds / baseline.events)).toFixed(2)}× | ${motoCpu === undefined ? '–' : motoCpu.toFixed(2)} | ${Math.round(r.maxRssKb / 1024)} | ${Math.round(statSync(output).size / 1024 / 1024)} |`;
console.log(`\n${describeData(data)}; node ${process.version}, ${availableParallelism()} cores (moto shares them)\n`);
console.log('| run | events | seconds | events/s | vs baseline | CPU s | CPU per event vs baseline | moto CPU s | peak RSS MB | output MB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const measured of runs) console.log(row(measured));
for (const { name, result } of runs) {
  if (result.events !== data.events) {
    console.error(`event counts differ: expected ${data.events}, ${name}: ${result.events}`);
    process.exitCode = 1;
  }
}
