/**
 * Zip archives (issue 13, item 8): recognised by their first bytes, read entry by entry in the
 * archive's order, each entry decoded like an object of its own, its name beside its events.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ZipFile } from 'yazl';
import { decodeParts } from '../../src/formats/decode.js';
import { parseObject } from '../../src/formats/parse-object.js';
import { vpcflowFormat } from '../../src/formats/vpcflow.js';
import { linesFormat } from '../../src/formats/lines.js';
import type { Format, ParsedItem } from '../../src/formats/types.js';
import { ObjectDataError } from '../../src/util/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const KEY = 'exports/2026/11/23/flows.zip';

/** Seven-byte chunks: the archive reaches s3pull in many pieces, as a download does. */
const chunked = (bytes: Buffer) => Readable.from(Array.from({ length: Math.ceil(bytes.length / 7) }, (_, index) => bytes.subarray(index * 7, (index + 1) * 7)));

async function parse(format: Format, bytes: Buffer, key = KEY): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of parseObject(format, chunked(bytes), { key })) items.push(item);
  return items;
}

async function failureOf(bytes: Buffer, format: Format = linesFormat): Promise<Error | undefined> {
  try {
    await parse(format, bytes);
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

/** A zip written as a stream (yazl): sizes and CRC after each entry's data, in data descriptors. */
async function streamedZip(entries: { name: string; text?: string; stream?: string; dir?: boolean }[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of entries) {
    if (entry.dir) zip.addEmptyDirectory(entry.name);
    else if (entry.stream !== undefined) zip.addReadStream(Readable.from([Buffer.from(entry.stream)]), entry.name);
    else zip.addBuffer(Buffer.from(entry.text ?? ''), entry.name);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream.pipe(new PassThrough())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const events = (items: ParsedItem[]) => items.filter((item): item is Extract<ParsedItem, { event: unknown }> => 'event' in item);

describe('zip archives', () => {
  it('reads the entries in the archive\'s order (a folder among them), decodes a gzipped entry, and names each event\'s entry', async () => {
    const first = fixture('vpcflow/accept-reject-traffic.log').toString('utf8').trim().split('\n');
    const second = fixture('vpcflow/tcp-flag-sequence.log').toString('utf8').trim().split('\n');
    const items = await parse(vpcflowFormat, fixture('compression/flows.zip'));
    expect(items.filter((item) => 'bad' in item)).to.deep.equal([]);
    const all = events(items);
    expect(all.map((item) => item.fields?.['zip_entry'])).to.deep.equal([
      ...first.slice(1).map(() => 'accept-reject-traffic.log'),
      ...second.slice(1).map(() => 'more/tcp-flag-sequence.log.gz'),
    ]);
    // The same events, field by field, as the two files read on their own.
    const alone = [...events(await parse(vpcflowFormat, fixture('vpcflow/accept-reject-traffic.log'))), ...events(await parse(vpcflowFormat, fixture('vpcflow/tcp-flag-sequence.log')))];
    expect(all.map((item) => item.event)).to.deep.equal(alone.map((item) => item.event));
  });

  it('reads an archive written as a stream (sizes in data descriptors), with an empty entry and a UTF-8 byte-order mark in another', async () => {
    const bytes = await streamedZip([
      { name: 'logs/', dir: true },
      { name: 'logs/a.log', stream: 'one\ntwo\n' },
      { name: 'logs/empty.log', text: '' },
      { name: 'logs/b.log', text: '\ufeffthree\n' },
    ]);
    const all = events(await parse(linesFormat, bytes));
    expect(all.map((item) => [item.fields?.['zip_entry'], item.event['message']])).to.deep.equal([
      ['logs/a.log', 'one'],
      ['logs/a.log', 'two'],
      ['logs/b.log', 'three'],
    ]);
  });

  it('decodeParts hands on one part per entry, named, and one unnamed part for an object that is not an archive', async () => {
    const names: (string | undefined)[] = [];
    for await (const part of decodeParts(chunked(await streamedZip([{ name: 'a.log', text: 'x\n' }, { name: 'b.log.gz', text: 'y\n' }])), KEY)) {
      names.push(part.entry);
      for await (const chunk of part.bytes) void chunk;
    }
    for await (const part of decodeParts(Readable.from([gzipSync('z\n')]), 'plain.gz')) {
      names.push(part.entry);
      for await (const chunk of part.bytes) void chunk;
    }
    expect(names).to.deep.equal(['a.log', 'b.log.gz', undefined]);
  });

  it('a bad line names its entry and its line in the entry; the other lines and entries are delivered', async () => {
    const flows = fixture('vpcflow/accept-reject-traffic.log').toString('utf8');
    const bytes = await streamedZip([
      { name: 'a.log', text: flows },
      { name: 'b.log', text: `${flows.trimEnd()}\nnot a flow record\n` },
    ]);
    const items = await parse(vpcflowFormat, bytes);
    const records = flows.trim().split('\n').length - 1;
    expect(events(items)).to.have.length(2 * records);
    const bad = items.filter((item): item is Extract<ParsedItem, { bad: unknown }> => 'bad' in item);
    expect(bad).to.have.length(1);
    expect(bad[0]!.bad.line).to.equal(records + 2);
    expect(bad[0]!.bad.reason).to.match(/^zip entry b\.log: /);
  });

  it('names what it cannot read as the object\'s fault: a truncated archive, a zip inside a zip, an encrypted entry, an entry whose bytes were altered', async () => {
    const good = await streamedZip([{ name: 'a.log', text: 'a line that is long enough to be deflated, a line that is long enough\n'.repeat(20) }]);
    const truncated = await failureOf(good.subarray(0, good.length - 30));
    expect(truncated).to.be.instanceOf(ObjectDataError);
    expect(truncated?.message).to.match(new RegExp(`^${KEY}: not a readable zip archive \\(`));

    const nested = await failureOf(await storedZip('inner.zip', good));
    expect(nested).to.be.instanceOf(ObjectDataError);
    expect(nested?.message).to.equal(`${KEY}, zip entry inner.zip: a zip archive inside a zip archive is not unpacked`);

    const encrypted = Buffer.from(good);
    // The encryption bit (bit 0 of the general-purpose flags) in the local and the central headers.
    encrypted[6] = encrypted[6]! | 1;
    const central = encrypted.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    encrypted[central + 8] = encrypted[central + 8]! | 1;
    expect((await failureOf(encrypted))?.message).to.equal(`${KEY}, zip entry a.log: encrypted; s3pull cannot read it`);

    // In a stored (uncompressed) entry a changed byte still reads; only the CRC-32 tells.
    const altered = await storedZip('a.log', Buffer.from('abc\n'));
    altered[altered.indexOf(Buffer.from('abc'))] = 0x78;
    const failure = await failureOf(altered);
    expect(failure).to.be.instanceOf(ObjectDataError);
    expect(failure?.message).to.match(new RegExp(`^${KEY}, zip entry a\\.log: damaged \\(its CRC-32 is [0-9a-f]{8}, the archive records [0-9a-f]{8}\\)$`));
  });

  it('removes its temporary copy of the archive when the entries have been read and when the reader stops early', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 's3pull-zip-test-'));
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = dir;
    try {
      await parse(vpcflowFormat, fixture('compression/flows.zip'));
      expect(readdirSync(dir)).to.deep.equal([]);
      for await (const item of parseObject(vpcflowFormat, chunked(fixture('compression/flows.zip')), { key: KEY })) {
        expect(readdirSync(dir)).to.have.length(1);
        void item;
        break;
      }
      expect(readdirSync(dir)).to.deep.equal([]);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** An archive of one entry stored as its bytes, uncompressed. */
async function storedZip(name: string, bytes: Buffer): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(bytes, name, { compress: false });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream.pipe(new PassThrough())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
