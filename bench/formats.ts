/**
 * `npm run bench:formats`: what each format costs, and what the compressions hold in memory.
 *
 * 1. Every format on a corpus of its own README sample repeated to BENCH_FORMATS_MB (32 MB)
 *    of text, gzipped, read from local disk through decode, parse, envelope and batching (what a
 *    pull does between GetObject and the output, on one thread), each in its own process; beside
 *    it, the `lines` format over the same bytes, the cheapest reading there is: the floor.
 * 2. One VPC flow log of BENCH_FORMATS_BIG_MB (1024 MB) of text, with varied values so that it
 *    compresses like a real one, as gzip, zstd (Debian's `zstd`; left out with a message where it
 *    is absent) and Parquet: events/s and peak RSS of each, in its own process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, openSync, closeSync, writeSync, rmSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { createGzip } from 'node:zlib';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { sourceSchema } from '../src/config/schema.js';
import { formatConfigOf } from '../src/formats/index.js';
import { readmeSamples, type ReadmeSample } from '../test/helpers/readme-samples.js';
import { root, script, workDir } from './paths.js';

interface FormatRun {
  events: number;
  badLines: number;
  decodedBytes: number;
  seconds: number;
  cpuSeconds: number;
  maxRssKb: number;
}

const work = workDir('.data-formats');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const corpusBytes = Number(process.env.BENCH_FORMATS_MB ?? 32) * 1024 * 1024;
const bigBytes = Number(process.env.BENCH_FORMATS_BIG_MB ?? 1024) * 1024 * 1024;

function runFormat(file: string, config: unknown): Promise<FormatRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...script('run-format'), file, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as FormatRun) : reject(new Error(`run-format ${file} exited ${code}`))));
  });
}

// ---- 1. every format against the `lines` floor ----

/** The sample's header lines (written once) and its records (repeated), as the format reads them. */
function corpusOf(sample: ReadmeSample, bytes: number): { text: () => Iterable<string>; records: number } {
  const lines = sample.input.split('\n').filter((line) => line !== '');
  const documentArray: Record<string, string> = { cloudtrail: 'Records', config: 'configurationItems' };
  const arrayPath = documentArray[sample.format] ?? (sample.format === 'json' ? String(sample.options['records_path']) : undefined);
  if (arrayPath !== undefined) {
    // A document of records one per line, so that `lines` can read the same bytes.
    const document = JSON.parse(sample.input) as Record<string, unknown>;
    const names = arrayPath.split('.');
    let holder = document;
    for (const name of names.slice(0, -1)) holder = holder[name] as Record<string, unknown>;
    const record = JSON.stringify((holder[names.at(-1)!] as unknown[])[0]);
    holder[names.at(-1)!] = '@@RECORDS@@';
    const [before, after] = JSON.stringify(document).split('"@@RECORDS@@"') as [string, string];
    const records = Math.max(1, Math.floor(bytes / (record.length + 2)));
    return {
      records,
      *text() {
        yield `${before}[\n`;
        for (let index = 0; index < records; index += 1) yield index === records - 1 ? `${record}\n` : `${record},\n`;
        yield `]${after}\n`;
      },
    };
  }
  const flowHeader = sample.format === 'vpcflow' && sample.options['vpcflow'] === undefined && sample.options['envelope'] === undefined;
  const headerCount = flowHeader || sample.format === 'csv' ? 1 : sample.format === 'w3c' ? lines.filter((line) => line.startsWith('#')).length : 0;
  const headers = lines.slice(0, headerCount);
  const body = lines.slice(headerCount);
  const bodyBytes = body.reduce((sum, line) => sum + line.length + 1, 0);
  if (bodyBytes === 0) throw new Error(`the README sample of ${sample.format} has no record to repeat`);
  const rounds = Math.max(1, Math.floor(bytes / bodyBytes));
  return {
    records: rounds * body.length,
    *text() {
      for (const header of headers) yield `${header}\n`;
      const block = `${body.join('\n')}\n`.repeat(Math.min(rounds, 1000));
      for (let done = 0; done < rounds; done += 1000) yield done + 1000 <= rounds ? block : `${body.join('\n')}\n`.repeat(rounds - done);
    },
  };
}

async function gzipTo(file: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  await pipeline(Readable.from(chunks), createGzip(), createWriteStream(file));
}

const samples = readmeSamples(path.join(root, 'README.md'));
const rows: string[] = [];
let round = 0;
for (const sample of samples) {
  const source = sourceSchema.parse({ id: 'bench', bucket: 'bench-bucket', region: 'us-east-1', format: sample.format, ...sample.options });
  const config = formatConfigOf(source);
  const corpus = corpusOf(sample, corpusBytes);
  const file = path.join(work, `${round}-${sample.format}.gz`);
  const label = sample.format + (Object.keys(sample.options).length > 0 ? ` (${Object.keys(sample.options).join(', ')})` : '');
  await gzipTo(file, corpus.text());
  const order = round % 2 === 0 ? (['format', 'lines'] as const) : (['lines', 'format'] as const);
  round += 1;
  const measured: Partial<Record<'format' | 'lines', FormatRun>> = {};
  for (const which of order) measured[which] = await runFormat(file, which === 'format' ? config : { format: 'lines' });
  const own = measured.format!;
  const floor = measured.lines!;
  if (own.events !== corpus.records || own.badLines !== 0) throw new Error(`${label}: ${own.events} events and ${own.badLines} bad lines, expected ${corpus.records} and 0`);
  const mbPerSecond = (run: FormatRun) => run.decodedBytes / 1024 / 1024 / run.seconds;
  rows.push(
    `| ${label} | ${own.events.toLocaleString('en')} | ${(own.decodedBytes / 1024 / 1024).toFixed(0)} (${(own.decodedBytes / statSync(file).size).toFixed(0)}:1) | ${Math.round(own.events / own.seconds).toLocaleString('en')} | ${mbPerSecond(own).toFixed(1)} | ${Math.round(own.maxRssKb / 1024)} | ${Math.round(floor.events / floor.seconds).toLocaleString('en')} | ${mbPerSecond(floor).toFixed(1)} | ${(mbPerSecond(own) / mbPerSecond(floor)).toFixed(2)}× |`,
  );
  rmSync(file);
}
console.log(`\nnode ${process.version}; each format's README sample repeated to ${(corpusBytes / 1024 / 1024).toFixed(0)} MB of text, gzipped, read from local disk on one thread (decode, parse, envelope, batches); \`lines\` over the same bytes in its own process, alternating order\n`);
console.log('| format | events | MB text (gzip ratio) | events/s | MB/s | peak RSS MB | `lines`: lines/s | `lines`: MB/s | MB/s vs `lines` |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);

// ---- 2. one large flow log as gzip, zstd and Parquet ----

const FLOW_COLUMNS = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'];

/** Flow records with values that change as a busy VPC's do (a pseudo-random sequence, the same every run). */
function* flowLines(bytes: number): Generator<string> {
  let seed = 12345;
  const next = (range: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % range;
  };
  yield `${FLOW_COLUMNS.join(' ')}\n`;
  let written = 0;
  let start = 1795428000;
  while (written < bytes) {
    const block: string[] = [];
    for (let index = 0; index < 10_000; index += 1) {
      start += next(2);
      const line = `2 111122223333 eni-0${(next(64) + 0x1a2b3c).toString(16)} 10.0.${next(256)}.${next(256)} ${next(4) === 0 ? '203.0.113' : '198.51.100'}.${next(256)} ${1024 + next(64000)} ${[443, 80, 22, 53, 3389][next(5)]} ${[6, 17][next(2)]} ${1 + next(400)} ${40 + next(600000)} ${start} ${start + 30 + next(60)} ${next(10) === 0 ? 'REJECT' : 'ACCEPT'} OK`;
      block.push(line);
    }
    const text = `${block.join('\n')}\n`;
    written += text.length;
    yield text;
  }
}

// BENCH_FORMATS_BIG_MB=0 leaves the large flow log out.
if (bigBytes > 0) await largeFlowLog();

async function largeFlowLog(): Promise<void> {
  const bigText = path.join(work, 'big-flows.log');
  {
    const fd = openSync(bigText, 'w');
    for (const text of flowLines(bigBytes)) writeSync(fd, text);
    closeSync(fd);
  }
  const bigRecords = Number(spawnSync('wc', ['-l', bigText], { encoding: 'utf8' }).stdout.trim().split(' ')[0]) - 1;
  const compressed: { name: string; file: string }[] = [];
  const gz = path.join(work, 'big-flows.log.gz');
  await pipeline(createReadStream(bigText), createGzip(), createWriteStream(gz));
  compressed.push({ name: 'gzip', file: gz });
  const zst = path.join(work, 'big-flows.log.zst');
  const zstd = spawnSync('zstd', ['-q', '-3', '-T0', '-f', '-o', zst, bigText]);
  if (zstd.status === 0) compressed.push({ name: 'zstd (zstd -3)', file: zst });
  else console.log(`\nzstd left out: Debian's zstd is not installed here (${zstd.error?.message ?? zstd.stderr?.toString().trim()})`);
  const parquet = path.join(work, 'big-flows.parquet');
  await writeParquet(bigText, parquet);
  compressed.push({ name: 'Parquet (snappy, row groups of 100,000)', file: parquet });
  rmSync(bigText);

  console.log(`\none VPC flow log of ${bigRecords.toLocaleString('en')} records, ${(bigBytes / 1024 / 1024).toFixed(0)} MB as text, read from local disk on one thread, each in its own process\n`);
  console.log('| object | MB | events | events/s | CPU s | peak RSS MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const { name, file } of compressed) {
    const run = await runFormat(file, { format: 'vpcflow' });
    if (run.events !== bigRecords) throw new Error(`${name}: ${run.events} events, expected ${bigRecords}`);
    console.log(`| ${name} | ${(statSync(file).size / 1024 / 1024).toFixed(0)} | ${run.events.toLocaleString('en')} | ${Math.round(run.events / run.seconds).toLocaleString('en')} | ${run.cpuSeconds.toFixed(1)} | ${Math.round(run.maxRssKb / 1024)} |`);
  }
  // BENCH_FORMATS_KEEP=1 leaves the large objects in bench/.data-formats/ to look into.
  if (process.env.BENCH_FORMATS_KEEP !== '1') rmSync(work, { recursive: true, force: true });
}

/** The flow log as Parquet with the columns and types AWS documents, written row group by row group. */
async function writeParquet(textFile: string, file: string): Promise<void> {
  const names = FLOW_COLUMNS.map((name) => name.replaceAll('-', '_'));
  const types: Record<string, 'INT32' | 'INT64' | 'STRING'> = { version: 'INT32', srcport: 'INT32', dstport: 'INT32', protocol: 'INT32', packets: 'INT64', bytes: 'INT64', start: 'INT64', end: 'INT64' };
  const schema = [
    { name: 'root', num_children: names.length },
    ...names.map((name) => {
      const type = types[name] ?? 'STRING';
      return type === 'STRING' ? { name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const } : { name, type, repetition_type: 'OPTIONAL' as const };
    }),
  ];
  const writer = new ParquetWriter({ writer: fileWriter(file), schema });
  let columns: unknown[][] = names.map(() => []);
  const flush = () => {
    writer.write({
      columnData: names.map((name, index) => ({ name, data: types[name] === 'INT64' ? (columns[index] as string[]).map(BigInt) : types[name] ? (columns[index] as string[]).map(Number) : columns[index]! })),
      rowGroupSize: 100_000,
    });
    columns = names.map(() => []);
  };
  let header = true;
  for await (const line of createInterface({ input: createReadStream(textFile), crlfDelay: Infinity })) {
    if (header) {
      header = false;
      continue;
    }
    const values = line.split(' ');
    for (let index = 0; index < names.length; index += 1) columns[index]!.push(values[index]);
    if (columns[0]!.length === 100_000) flush();
  }
  if (columns[0]!.length > 0) flush();
  writer.finish();
}
