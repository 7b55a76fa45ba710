import { PassThrough, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { ObjectDataError } from '../util/errors.js';

// Larger output chunks than zlib's 16 KiB default roughly double gunzip throughput (TESTING.md);
// beyond 64 KiB they only hold more memory per object (measured with bench:pull: 1 MiB chunks
// were no faster, and 30 MB more at the peak).
const GUNZIP_CHUNK = 64 * 1024;

/** Compressions recognised by their first bytes; only gzip is read (the others are named). */
const MAGIC: { name: string; bytes: number[] }[] = [
  { name: 'gzip', bytes: [0x1f, 0x8b] },
  { name: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { name: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: '7z', bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
];

export function compressionOf(head: Buffer): string | undefined {
  return MAGIC.find(({ bytes }) => head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte))?.name;
}

/**
 * Chooses decompression by the first bytes, not by the key's name or Content-Encoding: S3 log
 * files are gzip whatever they are called, and some stores set misleading headers. Then the
 * text: a UTF-8 byte-order mark is dropped, UTF-16 (by its byte-order mark) becomes UTF-8, so
 * every format sees UTF-8 without a BOM.
 */
/** Where decode counts the bytes it handed on (for the metrics: bytes read, decoded). */
export interface DecodeTally {
  decodedBytes: number;
}

export async function decode(body: Readable, key: string, tally?: DecodeTally): Promise<Readable> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const compression = compressionOf(firstChunk);
  if (compression && compression !== 'gzip') {
    throw new ObjectDataError(`${key}: this object is ${compression}-compressed, not gzip; s3pull reads gzip and uncompressed objects`, { context: { key } });
  }
  const source = async function* () {
    if (!first.done) yield first.value;
    for (;;) {
      const next = await iterator.next();
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
  const stage = compression === 'gzip' ? createGunzip({ chunkSize: GUNZIP_CHUNK }) : new PassThrough({ highWaterMark: GUNZIP_CHUNK });
  // The error is named here, where it is known to be gzip's (a pipeline would hand the bare zlib
  // error on); a broken download reaches the same handler and passes as it is.
  stage.on('error', (error) => out.destroy(decodeError(error, key)));
  stage.pipe(out);
  out.once('close', () => stage.destroy());
  pipeline(source, stage).catch(() => {});
  return asUtf8(out);
}

const ZLIB_CODES = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_STREAM_ERROR', 'ERR_INVALID_STATE']);

/** A broken gzip stream is the object's fault (an attempt); a broken download is not, and passes as it is. */
function decodeError(error: unknown, key: string): Error {
  const code = (error as { code?: string }).code;
  if (code && ZLIB_CODES.has(code)) {
    return new ObjectDataError(`${key}: not a valid gzip stream (${(error as Error).message})`, { cause: error, context: { key } });
  }
  return error as Error;
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
