/**
 * `npm run bench:metrics`: the cost of the telemetry. The same 200 MB pull (parse_threads: auto,
 * as the service runs), with metrics off (events only log, at info: their debug lines are not
 * written) and on (every event counted into the prom-client registry, scraped once a second),
 * three runs each, alternating, each in its own process. The median of each is compared.
 */
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { compareSetting, comparisonReport, prepareTrail } from './trail-bench.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const figures = await compareSetting(data, work, 'BENCH_METRICS', rounds);
await stopMoto();
console.log(comparisonReport(data, rounds, 'metrics', { off: 'off', on: 'on (counted, scraped every second)' }, figures));
