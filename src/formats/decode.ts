import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

const GZIP_MAGIC = [0x1f, 0x8b];
// Larger output chunks than zlib's 16 KiB default roughly double gunzip throughput (TESTING.md).
const GUNZIP_CHUNK = 1024 * 1024;

/**
 * Chooses decompression by the first bytes, not by the key's name or Content-Encoding: S3 log
 * files are gzip whatever they are called, and some stores set misleading headers.
 */
export async function decode(body: Readable): Promise<Readable> {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const out = new PassThrough({ highWaterMark: GUNZIP_CHUNK });
  const source = async function* () {
    if (!first.done) yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  };
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const isGzip = firstChunk.length >= 2 && firstChunk[0] === GZIP_MAGIC[0] && firstChunk[1] === GZIP_MAGIC[1];
  const done = isGzip ? pipeline(source, createGunzip({ chunkSize: GUNZIP_CHUNK }), out) : pipeline(source, out);
  done.catch((error: unknown) => {
    out.destroy(error as Error);
  });
  return out;
}
