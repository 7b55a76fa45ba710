/**
 * The baseline: the same objects read from local disk, gunzip + JSON.parse + one JSON line per
 * record written to a file. What a hand-written script does, with no S3, no state, no envelope.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

const [dataDir, outFile] = process.argv.slice(2) as [string, string];
const started = process.hrtime.bigint();
const cpuAtStart = cpuSeconds();
const out = await open(outFile, 'w');
let events = 0;
for (const file of (await readdir(dataDir)).sort()) {
  const document = JSON.parse(gunzipSync(await readFile(path.join(dataDir, file))).toString('utf8')) as { Records: unknown[] };
  const lines = document.Records.map((record) => JSON.stringify(record)).join('\n');
  await out.write(`${lines}\n`);
  events += document.Records.length;
}
await out.close();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ events, seconds, maxRssKb: process.resourceUsage().maxRSS, cpuSeconds: cpuSeconds() - cpuAtStart }));

/** User and system CPU of the whole process (every thread). */
function cpuSeconds(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
}
