import { Readable } from 'node:stream';
import { parser } from 'stream-json';
import type { Token } from 'stream-json/parser.js';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import chain from 'stream-chain';
import type { Format, ParsedItem } from './types.js';
import { ObjectDataError } from '../util/errors.js';

/**
 * Whole-object JSON.parse is several times faster than a streaming parser, so objects are read
 * whole up to this size (decoded) and streamed only above it: a 1 GB object stays in bounded
 * memory and a 3 MB one does not pay for streaming.
 */
export const WHOLE_PARSE_LIMIT_BYTES = 64 * 1024 * 1024;

export function createCloudTrailFormat(wholeParseLimitBytes = WHOLE_PARSE_LIMIT_BYTES): Format {
  return {
    name: 'cloudtrail',
    async *parse(input, context) {
      const head: Buffer[] = [];
      let headBytes = 0;
      const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      for (;;) {
        const next = await iterator.next();
        if (next.done) {
          yield* parseWhole(Buffer.concat(head, headBytes), context.key);
          return;
        }
        const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes > wholeParseLimitBytes) break;
      }
      yield* parseStreaming(Readable.from(concatStreams(head, iterator)), context.key);
    },
  };
}

function* parseWhole(bytes: Buffer, key: string): Iterable<ParsedItem> {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ObjectDataError(`${key}: not valid JSON (${(error as Error).message})`, { context: { key } });
  }
  const records = (document as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) {
    throw new ObjectDataError(`${key}: not a CloudTrail file (no "Records" array at the top level)`, { context: { key } });
  }
  for (let index = 0; index < records.length; index += 1) {
    yield toItem(records[index], index);
  }
}

async function* parseStreaming(input: Readable, key: string): AsyncIterable<ParsedItem> {
  let sawRecords = false;
  const pipeline = chain([
    input,
    parser(),
    pick({ filter: 'Records' }),
    (token: Token) => {
      sawRecords = true;
      return token;
    },
    streamArray(),
  ]);
  try {
    for await (const item of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
      yield toItem(item.value, item.key);
    }
  } catch (error) {
    throw new ObjectDataError(`${key}: not valid JSON (${(error as Error).message})`, { context: { key } });
  }
  if (!sawRecords) {
    throw new ObjectDataError(`${key}: not a CloudTrail file (no "Records" array at the top level)`, { context: { key } });
  }
}

function toItem(record: unknown, index: number): ParsedItem {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { bad: { line: index + 1, reason: `record ${index + 1} is not a JSON object` } };
  }
  const eventTime = (record as { eventTime?: unknown }).eventTime;
  return { event: record as Record<string, unknown>, time: typeof eventTime === 'string' ? eventTime : undefined };
}

async function* concatStreams(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* head;
  head.length = 0;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

export const cloudtrailFormat = createCloudTrailFormat();
