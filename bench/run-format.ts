/**
 * One format's own work on one object from local disk: decode, parse, envelope, batch — what a
 * pull does between GetObject and the output, on the main thread, read in 64 KiB chunks as a
 * download arrives. Prints its Measured as JSON.
 * Arguments: the object's file, the format's options (JSON, as in a source file).
 */
import { createReadStream } from 'node:fs';
import { formatFor, type FormatConfig } from '../src/formats/index.js';
import { parseObject } from '../src/formats/parse-object.js';
import { prepareBatches } from '../src/pipeline/batches.js';
import { EnvelopeWriter } from '../src/pipeline/envelope.js';

const [file, options] = process.argv.slice(2) as [string, string];
const config = JSON.parse(options) as FormatConfig;
const format = formatFor(config);
const envelope = new EnvelopeWriter({ sourceId: 'bench', source: 'bench', bucket: 'bench', key: file, etag: 'e', format: config.format, fallbackTime: '2026-11-23T00:00:00.000Z' });
const tally = { decodedBytes: 0 };
let events = 0;
let badLines = 0;
const started = process.hrtime.bigint();
const cpuAtStart = cpuSeconds();
const items = parseObject(format, createReadStream(file, { highWaterMark: 64 * 1024 }), { key: file }, tally);
for await (const batch of prepareBatches(items, envelope, { resumeFrom: 0, samplesWanted: 0 })) {
  events += batch.records.length;
  badLines += batch.badLines;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ events, badLines, decodedBytes: tally.decodedBytes, seconds, cpuSeconds: cpuSeconds() - cpuAtStart, maxRssKb: process.resourceUsage().maxRSS }));

function cpuSeconds(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
}
