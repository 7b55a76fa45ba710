/**
 * `npm run bench:digests`: the cost of `cloudtrail.digests: verify` on the hot path, the SHA-256 of
 * every object's decompressed bytes computed as it streams. The same 200 MB pull (parse_threads:
 * auto, as the service runs) with hashing off and on, three runs each, alternating, each in its
 * own process; the medians. (Reading and judging the digests is once an hour, off the hot path.)
 */
import { stopMoto } from '../test/helpers/moto.js';
import { workDir } from './paths.js';
import { compareSetting, comparisonReport, prepareTrail } from './trail-bench.js';

const work = workDir('.data');
const data = await prepareTrail(work, Number(process.env.BENCH_MB ?? 200));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const figures = await compareSetting(data, work, 'BENCH_HASH', rounds);
await stopMoto();
console.log(comparisonReport(data, rounds, 'SHA-256 of each object', { off: 'off', on: 'on (cloudtrail.digests: verify)' }, figures));
