import { PassThrough, Readable, Transform, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { ObjectDataError } from '../util/errors.js';

// Larger output chunks than zlib's 16 KiB default roughly double gunzip throughput (TESTING.md);
// beyond 64 KiB they only hold more memory per object (measured with bench:pull: 1 MiB chunks
// were no faster, and 30 MB more at the peak).
const GUNZIP_CHUNK = 64 * 1024;

/** Compressions recognised by their first bytes; gzip, zstd and bzip2 are read, the others named. */
const MAGIC: { name: string; bytes: number[] }[] = [
  { name: 'gzip', bytes: [0x1f, 0x8b] },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: '7z', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
];
const READ = new Set(['gzip', 'zstd', 'bzip2']);
const NAMED_COMPRESSED = /\.(gz|gzip|zst|zstd|bz2|zip|xz|7z)$/i;

export function compressionOf(head: Buffer): string | undefined {
  return MAGIC.find(({ bytes }) => head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte))?.name;
}

/** Where decode counts the bytes it handed on (for the metrics: bytes read, decoded). */
export interface DecodeTally {
  decodedBytes: number;
}

/**
 * Chooses decompression by the first bytes, not by the key's name or Content-Encoding: S3 log
 * files are gzip whatever they are called, and some stores set misleading headers. gzip (every
 * member of a multi-member file), zstd and bzip2 are read as they stream; an object that is
 * none of them is read as text, unless its name says it is compressed and its first bytes are
 * not text, which is named. Then the text: a UTF-8 byte-order mark is dropped, UTF-16 (by its
 * byte-order mark) becomes UTF-8, so every format sees UTF-8 without a BOM.
 */
export async function decode(body: Readable, key: string, tally?: DecodeTally): Promise<Readable> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const compression = compressionOf(firstChunk);
  if (compression && !READ.has(compression)) {
    throw new ObjectDataError(`${key}: this object is ${compression}-compressed; s3pull reads gzip, zstd, bzip2 and uncompressed objects`, { context: { key } });
  }
  if (!compression && NAMED_COMPRESSED.test(key) && !looksLikeText(firstChunk)) {
    const shown = [...firstChunk.subarray(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    throw new ObjectDataError(`${key}: named as compressed, but its bytes are none of gzip, zstd, bzip2, zip, xz, 7z, nor text (they begin ${shown})`, { context: { key } });
  }
  // A failure of the download passes as it is (it is tried again); one of the decompressor is the object's.
  let downloadFailed = false;
  const source = async function* () {
    if (!first.done) yield first.value;
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (error) {
        downloadFailed = true;
        throw error;
      }
      if (next.done) return;
      yield next.value;
    }
  };
  const out = tally
    ? new Transform({
        highWaterMark: GUNZIP_CHUNK,
        transform(chunk: Buffer, _encoding, done) {
          tally.decodedBytes += chunk.length;
          done(null, chunk);
        },
      })
    : new PassThrough({ highWaterMark: GUNZIP_CHUNK });
  const stage = await decompressor(compression);
  // The error is named here, where it is known to be the decompressor's (a pipeline would hand
  // the bare library error on); a broken download reaches the same handler and passes as it is.
  stage.on('error', (error) => out.destroy(downloadFailed ? error : decodeError(error, key, compression)));
  stage.pipe(out);
  out.once('close', () => stage.destroy());
  pipeline(source, stage).catch(() => {});
  return asUtf8(out);
}

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
function decodeError(error: unknown, key: string, compression: string | undefined): Error {
  if (error instanceof ObjectDataError) return error;
  return new ObjectDataError(`${key}: not a valid ${compression ?? 'text'} stream (${(error as Error).message ?? String(error)})`, { cause: error, context: { key } });
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
