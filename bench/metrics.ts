/**
 * `npm run bench:metrics`: the cost of the telemetry. The same 200 MB pull (parse_threads: auto,
 * as the service runs), with metrics off (events only log, at info: their debug lines are not
 * written) and on (every event counted into the prom-client registry, scraped once a second),
 * three runs each, alternating, each in its own process. The median of each is compared.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { describeData, prepareTrail, runScript, type Measured } from './trail-bench.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const runs: Record<'off' | 'on', Measured[]> = { off: [], on: [] };
for (let round = 0; round < rounds; round += 1) {
  for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    rmSync(path.join(work, 'state.db'), { force: true });
    const result = await runScript('run-s3pull', [data.endpoint, work, path.join(work, `metrics-${mode}.ndjson`)], { BENCH_METRICS: mode === 'on' ? '1' : '0' });
    if (result.events !== data.events) throw new Error(`metrics ${mode}: ${result.events} events, expected ${data.events}`);
    runs[mode].push(result);
  }
}
await stopMoto();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (r: Measured) => r.events / r.seconds;
const off = { rate: median(runs.off.map(rate)), cpu: median(runs.off.map((r) => r.cpuSeconds)), rss: median(runs.off.map((r) => r.maxRssKb / 1024)) };
const on = { rate: median(runs.on.map(rate)), cpu: median(runs.on.map((r) => r.cpuSeconds)), rss: median(runs.on.map((r) => r.maxRssKb / 1024)) };
console.log(`\n${describeData(data)}; ${rounds} runs each, alternating; medians\n`);
console.log('| metrics | events/s | CPU s | peak RSS MB | all runs, events/s |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const [name, figures, all] of [['off', off, runs.off], ['on (counted, scraped every second)', on, runs.on]] as const) {
  console.log(`| ${name} | ${Math.round(figures.rate).toLocaleString('en')} | ${figures.cpu.toFixed(2)} | ${Math.round(figures.rss)} | ${all.map((r) => Math.round(rate(r)).toLocaleString('en')).join(', ')} |`);
}
console.log(`\nmetrics on: ${((on.rate / off.rate - 1) * 100).toFixed(1)} % events/s, ${((on.cpu / off.cpu - 1) * 100).toFixed(1)} % CPU`);
