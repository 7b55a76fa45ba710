/**
 * `npm run bench:digests`: the cost of `cloudtrail.digests: verify` on the hot path, the SHA-256 of
 * every object's decompressed bytes computed as it streams. The same 200 MB pull (parse_threads:
 * auto, as the service runs) with hashing off and on, three runs each, alternating, each in its
 * own process; the medians. (Reading and judging the digests is once an hour, off the hot path.)
 */
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { compareSetting, describeData, prepareTrail } from './trail-bench.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const { off, on } = await compareSetting(data, work, 'BENCH_HASH', rounds);
await stopMoto();

console.log(`\n${describeData(data)}; ${rounds} runs each, alternating; medians\n`);
console.log('| SHA-256 of each object | events/s | CPU s | peak RSS MB | all runs, events/s |');
console.log('| --- | ---: | ---: | ---: | --- |');
for (const [name, figures] of [['off', off], ['on (cloudtrail.digests: verify)', on]] as const) {
  console.log(`| ${name} | ${Math.round(figures.rate).toLocaleString('en')} | ${figures.cpu.toFixed(2)} | ${Math.round(figures.rss)} | ${figures.all.map((r) => Math.round(r.events / r.seconds).toLocaleString('en')).join(', ')} |`);
}
console.log(`\nhashing on: ${((on.rate / off.rate - 1) * 100).toFixed(1)} % events/s, ${((on.cpu / off.cpu - 1) * 100).toFixed(1)} % CPU`);
