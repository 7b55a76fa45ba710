/**
 * `npm run bench:metrics`: the cost of the telemetry. The same 200 MB pull (parse_threads: auto,
 * as the service runs), with metrics off (events only log, at info: their debug lines are not
 * written) and on (every event counted into the prom-client registry, scraped once a second),
 * three runs each, alternating, each in its own process. The median of each is compared.
 */
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { compareSetting, describeData, prepareTrail } from './trail-bench.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const { off, on } = await compareSetting(data, work, 'BENCH_METRICS', rounds);
await stopMoto();

console.log(`\n${describeData(data)}; ${rounds} runs each, alternating; medians\n`);
console.log('| metrics | events/s | CPU s | peak RSS MB | all runs, events/s |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const [name, figures] of [['off', off], ['on (counted, scraped every second)', on]] as const) {
  console.log(`| ${name} | ${Math.round(figures.rate).toLocaleString('en')} | ${figures.cpu.toFixed(2)} | ${Math.round(figures.rss)} | ${figures.all.map((r) => Math.round(r.events / r.seconds).toLocaleString('en')).join(', ')} |`);
}
console.log(`\nmetrics on: ${((on.rate / off.rate - 1) * 100).toFixed(1)} % events/s, ${((on.cpu / off.cpu - 1) * 100).toFixed(1)} % CPU`);
