/**
 * Reads the digests of a CloudTrail partition from S3. A partition `…/AWSLogs/<account>/CloudTrail/<region>/`
 * has its digests under `…/AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/`, one folder a
 * day (the day the digest's hour ended); only the days asked for are listed.
 */
import { gunzipSync } from 'node:zlib';
import type { S3Bucket } from '../aws/types.js';
import { DigestFormatError, parseDigest } from './digest-file.js';
import { sha256Hex } from './signature.js';
import type { ReadDigest } from './verify.js';

/** The digest folder beside a CloudTrail partition, or undefined for a prefix that is not one. */
export function digestPrefixOf(partition: string): string | undefined {
  const match = /^(.*\/)?(AWSLogs\/(?:o-[a-z0-9]+\/)?\d{12}\/)CloudTrail\/([a-z0-9-]+)\/$/.exec(partition);
  return match ? `${match[1] ?? ''}${match[2]}CloudTrail-Digest/${match[3]}/` : undefined;
}

/** The UTC days from `fromMs` to `toMs` as digest folders (`2026/11/23/`). */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let day = Math.floor(fromMs / 86_400_000); day <= Math.floor(toMs / 86_400_000); day += 1) {
    days.push(`${new Date(day * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '/')}/`);
  }
  return days;
}

/** A digest that could not be read as one: its key and why (a security event of its own). */
export interface UnreadableDigest {
  key: string;
  reason: string;
}

/** A digest lists an hour's files: kilobytes. A far larger object in the digest folder is not one, and is not read into memory. */
export const MAX_DIGEST_BYTES = 16 * 1024 * 1024;

/** Each digest of the given days, in key order (that is, time order within a chain). */
export async function* readDigests(bucket: S3Bucket, digestPrefix: string, days: readonly string[], signal: AbortSignal, maxBytes = MAX_DIGEST_BYTES): AsyncGenerator<ReadDigest | UnreadableDigest> {
  for (const day of days) {
    for await (const page of bucket.listPages(`${digestPrefix}${day}`, undefined, signal)) {
      for (const object of page) {
        if (!/\.json(\.gz)?$/.test(object.key)) continue;
        if (object.size > maxBytes) {
          yield { key: object.key, reason: `${object.size} bytes, too large for a digest (at most ${maxBytes})` };
          continue;
        }
        const fetched = await bucket.get(object.key, signal, object.etag);
        const chunks: Buffer[] = [];
        for await (const chunk of fetched.body) chunks.push(chunk as Buffer);
        const stored = Buffer.concat(chunks);
        let text: Buffer;
        try {
          // Bounded too once decompressed: a small object may inflate to gigabytes.
          text = stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored, { maxOutputLength: 4 * maxBytes }) : stored;
        } catch (error) {
          const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
          yield { key: object.key, reason: tooLarge ? `inflates to more than ${4 * maxBytes} bytes, too large for a digest` : `not a valid gzip stream (${(error as Error).message})` };
          continue;
        }
        try {
          const digest = parseDigest(text.toString('utf8'), object.key);
          yield { bucket: bucket.bucket, key: object.key, digest, sha256: sha256Hex(text), signature: fetched.metadata?.['signature'] };
        } catch (error) {
          if (!(error instanceof DigestFormatError)) throw error;
          yield { key: object.key, reason: error.message.slice(object.key.length + 2) };
        }
      }
    }
  }
}
