import { PassThrough, Readable, Transform, type Duplex } from 'node:stream';
import type { Hash } from 'node:crypto';
import { crc32, createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { ObjectDataError } from '../util/errors.js';
import { spoolToFile } from '../util/spool.js';

// Larger output chunks than zlib's 16 KiB default roughly double gunzip throughput (TESTING.md);
// beyond 64 KiB they only hold more memory per object (measured with bench:pull: 1 MiB chunks
// were no faster, and 30 MB more at the peak).
const GUNZIP_CHUNK = 64 * 1024;

/** Compressions recognised by their first bytes; gzip, zstd, bzip2 and zip are read, the others named. */
const MAGIC: { name: string; bytes: number[] }[] = [
  { name: 'gzip', bytes: [0x1f, 0x8b] },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: '7z', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
];
/** Read as they stream; zip is read entry by entry (zipEntries). */
const READ = new Set(['gzip', 'zstd', 'bzip2']);
const NAMED_COMPRESSED = /\.(gz|gzip|zst|zstd|bz2|zip|xz|7z)$/i;

export function compressionOf(head: Buffer): string | undefined {
  return MAGIC.find(({ bytes }) => head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte))?.name;
}

/** Where decode counts the bytes it handed on (for the metrics: bytes read, decoded). */
export interface DecodeTally {
  decodedBytes: number;
  /**
   * The SHA-256 of the decompressed bytes (before a byte-order mark is dropped), as it streams:
   * what a CloudTrail digest records of each log file, so it costs no second read.
   */
  hash?: Hash | undefined;
  /** The hash in hex, where a parse thread hashed in the caller's place. */
  sha256?: string | undefined;
}

/** One text to parse: the object's bytes, or, for a zip archive, one entry's (named). */
export interface DecodedPart {
  entry?: string;
  bytes: Readable;
}

/** The object's first chunk (to recognise it by), then all of its chunks from the first. */
interface OpenedBody {
  first: Buffer;
  chunks(): AsyncGenerator<Buffer>;
  /** Whether a failure came from the download (tried again) rather than from the bytes (the object's). */
  downloadFailed(): boolean;
}

async function openBody(body: Readable): Promise<OpenedBody> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  let failed = false;
  return {
    first: first.done ? Buffer.alloc(0) : first.value,
    downloadFailed: () => failed,
    async *chunks() {
      if (!first.done) yield first.value;
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (error) {
          failed = true;
          throw error;
        }
        if (next.done) return;
        yield next.value;
      }
    },
  };
}

/**
 * Chooses decompression by the first bytes, not by the key's name or Content-Encoding: S3 log
 * files are gzip whatever they are called, and some stores set misleading headers. gzip (every
 * member of a multi-member file), zstd and bzip2 are read as they stream; a zip archive is read
 * entry by entry, in the archive's order, each entry decoded the same way; an object that is
 * none of them is read as text, unless its name says it is compressed and its first bytes are
 * not text, which is named. Then the text: a UTF-8 byte-order mark is dropped, UTF-16 (by its
 * byte-order mark) becomes UTF-8, so every format sees UTF-8 without a BOM.
 */
export async function* decodeParts(body: Readable, key: string, tally?: DecodeTally): AsyncGenerator<DecodedPart> {
  const opened = await openBody(body);
  if (compressionOf(opened.first) === 'zip') {
    yield* zipEntries(opened, key, tally);
    return;
  }
  yield { bytes: await decodeOpened(opened, key, tally) };
}

/** The decoded bytes of an object that is one text (not a zip archive). */
export async function decode(body: Readable, key: string, tally?: DecodeTally): Promise<Readable> {
  return decodeOpened(await openBody(body), key, tally);
}

async function decodeOpened(opened: OpenedBody, key: string, tally: DecodeTally | undefined, entry?: string): Promise<Readable> {
  const where = entry === undefined ? key : `${key}, zip entry ${entry}`;
  const compression = compressionOf(opened.first);
  if (compression === 'zip') {
    if (entry === undefined) throw new Error(`${key}: a zip archive is read entry by entry (decodeParts), not as one text`);
    throw new ObjectDataError(`${where}: a zip archive inside a zip archive is not unpacked`, { context: { key } });
  }
  if (compression && !READ.has(compression)) {
    throw new ObjectDataError(`${where}: this object is ${compression}-compressed; s3pull reads gzip, zstd, bzip2, zip and uncompressed objects`, { context: { key } });
  }
  if (!compression && NAMED_COMPRESSED.test(entry ?? key) && !looksLikeText(opened.first)) {
    const shown = [...opened.first.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    throw new ObjectDataError(`${where}: named as compressed, but its bytes are none of gzip, zstd, bzip2, zip, xz, 7z, nor text (they begin ${shown})`, { context: { key } });
  }
  const out = tally
    ? new Transform({
        highWaterMark: GUNZIP_CHUNK,
        transform(chunk: Buffer, _encoding, done) {
          tally.decodedBytes += chunk.length;
          tally.hash?.update(chunk);
          done(null, chunk);
        },
      })
    : new PassThrough({ highWaterMark: GUNZIP_CHUNK });
  const stage = await decompressor(compression);
  // The error is named here, where it is known to be the decompressor's (a pipeline would hand
  // the bare library error on); a broken download reaches the same handler and passes as it is.
  stage.on('error', (error) => out.destroy(opened.downloadFailed() ? error : decodeError(error, where, key, compression)));
  stage.pipe(out);
  out.once('close', () => stage.destroy());
  pipeline(opened.chunks(), stage).catch(() => {});
  return asUtf8(out);
}

/**
 * A zip archive keeps its directory at its end, so it is spooled to a temporary file (disk holds
 * it, not memory) and read with yauzl, which checks every entry's sizes; entries are handed on one
 * at a time, in the archive's order, and directories are passed over. An entry may itself be
 * gzip, zstd or bzip2 (a zip of .gz files). The file is removed when the entries have been read
 * or the read stops.
 */
async function* zipEntries(opened: OpenedBody, key: string, tally: DecodeTally | undefined): AsyncGenerator<DecodedPart> {
  const yauzl = await import('yauzl');
  const spooled = await spoolToFile(opened.chunks(), 'object.zip');
  let archive: import('yauzl').ZipFile | undefined;
  // The entry being read: a reader that stops early must not leave it open on the file.
  let current: Readable | undefined;
  try {
    try {
      archive = await yauzl.openPromise(spooled.file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true });
    } catch (error) {
      throw new ObjectDataError(`${key}: not a readable zip archive (${(error as Error).message})`, { context: { key } });
    }
    const entries = archive.eachEntry();
    for (;;) {
      let next: IteratorResult<import('yauzl').Entry>;
      try {
        next = await entries.next();
      } catch (error) {
        throw new ObjectDataError(`${key}: the zip archive's directory is damaged (${(error as Error).message})`, { context: { key } });
      }
      if (next.done) return;
      const entry = next.value;
      if (entry.fileName.endsWith('/')) continue;
      if (entry.isEncrypted()) throw new ObjectDataError(`${key}, zip entry ${entry.fileName}: encrypted; s3pull cannot read it`, { context: { key } });
      if (!entry.canDecodeFileData()) {
        throw new ObjectDataError(`${key}, zip entry ${entry.fileName}: compression method ${entry.compressionMethod} is not one zip readers share (stored and deflate are)`, { context: { key } });
      }
      let stream: Readable;
      try {
        stream = await archive.openReadStreamPromise(entry);
      } catch (error) {
        throw new ObjectDataError(`${key}, zip entry ${entry.fileName}: cannot be read (${(error as Error).message})`, { context: { key } });
      }
      current = inflatedEntry(stream, key, entry);
      yield { entry: entry.fileName, bytes: await decodeOpened(await openBody(current), key, tally, entry.fileName) };
      current.destroy();
    }
  } finally {
    current?.destroy();
    archive?.close();
    await spooled.dispose();
  }
}

/**
 * An entry's inflated bytes, checked against the CRC-32 the archive records for it (yauzl checks
 * sizes, not content): a damaged entry is the object's fault, named, never half-read as good.
 */
function inflatedEntry(stream: Readable, key: string, entry: import('yauzl').Entry): Readable {
  const damaged = (reason: string) => new ObjectDataError(`${key}, zip entry ${entry.fileName}: damaged (${reason})`, { context: { key } });
  let crc = 0;
  const out = new Transform({
    highWaterMark: GUNZIP_CHUNK,
    transform(chunk: Buffer, _encoding, done) {
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      done(crc >>> 0 === entry.crc32 >>> 0 ? null : damaged(`its CRC-32 is ${hex(crc)}, the archive records ${hex(entry.crc32)}`));
    },
  });
  stream.on('error', (error) => out.destroy(damaged(error.message)));
  out.once('close', () => stream.destroy());
  stream.pipe(out);
  return out;
}

const hex = (value: number) => (value >>> 0).toString(16).padStart(8, '0');

/** zstd and bzip2 are rare: their libraries are loaded at their first object, not by every process and parse thread. */
async function decompressor(compression: string | undefined): Promise<Duplex> {
  switch (compression) {
    case 'gzip':
      // Node's gunzip reads every member of a multi-member file (gzip files joined with cat).
      return createGunzip({ chunkSize: GUNZIP_CHUNK });
    case 'zstd':
      return zstdStream((await import('fzstd')).Decompress);
    case 'bzip2':
      return (await import('unbzip2-stream')).default() as unknown as Duplex;
    default:
      return new PassThrough({ highWaterMark: GUNZIP_CHUNK });
  }
}

/** fzstd's streaming decompressor as a Transform: memory is its window, not the object. */
function zstdStream(Decompress: typeof import('fzstd').Decompress): Transform {
  let pending: Transform | undefined;
  const decompress = new Decompress((data) => {
    if (data.length > 0) pending!.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  pending = new Transform({
    readableHighWaterMark: GUNZIP_CHUNK,
    transform(chunk: Buffer, _encoding, done) {
      try {
        decompress.push(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        decompress.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return pending;
}

/** Text has no NUL bytes and few control characters in its first bytes; compressed data has many. */
function looksLikeText(head: Buffer): boolean {
  const sample = head.subarray(0, 512);
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return false;
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) control += 1;
  }
  return control <= sample.length / 20;
}

/** A broken compressed stream is the object's fault (an attempt), named with its compression. */
function decodeError(error: unknown, where: string, key: string, compression: string | undefined): Error {
  if (error instanceof ObjectDataError) return error;
  return new ObjectDataError(`${where}: not a valid ${compression ?? 'text'} stream (${(error as Error).message ?? String(error)})`, { cause: error, context: { key } });
}

/** Looks at the first decoded bytes for a byte-order mark; without one the bytes pass unchanged. */
async function asUtf8(decoded: Readable): Promise<Readable> {
  const iterator = decoded[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  // A BOM is at most 3 bytes; a chunk that small is rare, but must not hide one.
  while (head.length < 3) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  const rest = async function* (): AsyncGenerator<Buffer> {
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  const utf16 = head[0] === 0xff && head[1] === 0xfe ? 'utf-16le' : head[0] === 0xfe && head[1] === 0xff ? 'utf-16be' : undefined;
  if (utf16) return Readable.from(transcode(utf16, head.subarray(2), rest()), { objectMode: false });
  const start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return Readable.from(
    (async function* () {
      if (head.length > start) yield head.subarray(start);
      yield* rest();
    })(),
    { objectMode: false, highWaterMark: GUNZIP_CHUNK },
  );
}

async function* transcode(encoding: string, head: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(encoding);
  if (head.length > 0) yield Buffer.from(decoder.decode(head, { stream: true }));
  for await (const chunk of rest) yield Buffer.from(decoder.decode(chunk, { stream: true }));
  const tail = decoder.decode();
  if (tail.length > 0) yield Buffer.from(tail);
}
