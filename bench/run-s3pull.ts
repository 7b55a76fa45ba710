/**
 * s3pull's own path: list, GetObject from the local S3 endpoint, decode, parse, envelope, output,
 * commit. The output is the file sink, or the one BENCH_OUTPUT (an `output:` object as JSON) names;
 * BENCH_DEDUP=1 turns dedup on; BENCH_HASH=1 hashes each object as CloudTrail digests need; BENCH_CA is a CA file trusted for TLS outputs; BENCH_METRICS=1
 * counts the telemetry events into the service's metrics (as `metrics.listen` does) and scrapes
 * them once a second, as a Prometheus would.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collectorSchema, sourceSchema } from '../src/config/schema.js';
import { createSink } from '../src/sinks/index.js';
import { rootCertificates } from 'node:tls';
import { openSqliteStore } from '../src/state/sqlite-store.js';
import { createS3Bucket, s3BucketOptionsFor } from '../src/aws/s3-bucket.js';
import { pollSource } from '../src/poll/poll-source.js';
import { FileSink } from '../src/sinks/file.js';
import { silentLogger } from '../src/log/logger.js';
import { systemClock } from '../src/util/clock.js';
import { ParseThreads, parseThreadCount } from '../src/pipeline/parse-threads.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { recordEventsInto } from '../src/telemetry/events.js';

const [endpoint, workDir, outFile] = process.argv.slice(2) as [string, string, string];
const source = {
  ...sourceSchema.parse({
    id: 'bench',
    bucket: 'bench-trail',
    prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/',
    region: 'us-east-1',
    endpoint,
    path_style: true,
    auth: { type: 'access_key', access_key_id: 'bench', secret_access_key: 'bench' },
    format: 'cloudtrail',
    eps_throttle: 0,
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
    ...(process.env.BENCH_DEDUP === '1' ? { dedup: true } : {}),
    // BENCH_HASH=1: cloudtrail.digests: verify, so every object's decompressed bytes are hashed (SHA-256) as they stream.
    ...(process.env.BENCH_HASH === '1' ? { cloudtrail: { digests: 'verify', public_key_file: 'unused' } } : {}),
  }),
  file: 'bench',
  proxy: 'none' as const,
};
const store = openSqliteStore(path.join(workDir, 'state.db'));
const sink = process.env.BENCH_OUTPUT
  ? createSink({
      collector: collectorSchema.parse({ output: JSON.parse(process.env.BENCH_OUTPUT) }),
      trust: { extra: [], ca: process.env.BENCH_CA ? [...rootCertificates, readFileSync(process.env.BENCH_CA, 'utf8')] : undefined },
      log: silentLogger,
    })
  : new FileSink(outFile);
const bucket = createS3Bucket(s3BucketOptionsFor(source));
// BENCH_THREADS: parse threads, as the collector's parse_threads (auto by default).
const threads = parseThreadCount(process.env.BENCH_THREADS === undefined || process.env.BENCH_THREADS === 'auto' ? 'auto' : Number(process.env.BENCH_THREADS));
const parseThreads = threads > 0 ? new ParseThreads(threads) : undefined;
// The service starts its threads as it starts; their start is not part of the pull.
await parseThreads?.warm();
// Nor is loading the SDK's code, which it does at its first requests (~0.2 s of CPU, once per
// process): one listing and one object opened and dropped load it before the timer.
await warmS3(bucket);
// Where the memory is, sampled: the JS heap (V8's), and what lies outside it (Buffers, zlib).
const peak = { heapMb: 0, externalMb: 0 };
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peak.heapMb = Math.max(peak.heapMb, usage.heapTotal / 1048576);
  peak.externalMb = Math.max(peak.externalMb, usage.external / 1048576);
}, 20);
const metrics = process.env.BENCH_METRICS === '1' ? createMetrics({ sources: () => [{ id: source.id, enabled: true, collection: { type: 'prefix' }, recurrence: 60_000 }], store, now: () => Date.now(), nextRunMs: () => null }) : undefined;
recordEventsInto(metrics?.events);
let scraped = 0;
const scraper = metrics ? setInterval(() => void metrics.text().then((text) => (scraped = text.length)), 1000) : undefined;
const started = process.hrtime.bigint();
const cpuAtStart = cpuSeconds();
const result = await pollSource(source, { store, sink, bucket, clock: systemClock, log: silentLogger, parseThreads }, new AbortController().signal);
await sink.close();
if (metrics) scraped = (await metrics.text()).length;
clearInterval(scraper);
await parseThreads?.close();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
bucket.destroy();
store.close();
clearInterval(sampler);
process.stdout.write(JSON.stringify({ events: result.events, status: result.status, seconds, maxRssKb: process.resourceUsage().maxRSS, cpuSeconds: cpuSeconds() - cpuAtStart, peakHeapMb: Math.round(peak.heapMb), peakExternalMb: Math.round(peak.externalMb), ...(metrics ? { scrapedBytes: scraped } : {}) }));

async function warmS3(warmed: typeof bucket): Promise<void> {
  const signal = new AbortController().signal;
  for await (const page of warmed.listPages(source.prefix, undefined, signal)) {
    const first = page[0];
    if (first) (await warmed.get(first.key, signal)).body.destroy();
    break;
  }
}

/** User and system CPU of the whole process (every thread). */
function cpuSeconds(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
}
