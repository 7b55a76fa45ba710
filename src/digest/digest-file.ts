/**
 * A CloudTrail digest file, as CloudTrail writes one per trail, account and region every hour
 * under `CloudTrail-Digest/` (field names as AWS documents them in "CloudTrail digest file
 * structure"). Only what verification reads is checked; fields AWS may add later are kept.
 */
import { z } from 'zod';

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'must be a time such as 2026-11-23T10:00:00Z');

const logFileSchema = z.looseObject({
  s3Bucket: z.string().min(1),
  s3Object: z.string().min(1),
  hashValue: z.string().regex(SHA256_HEX, 'must be a SHA-256 as 64 hex digits'),
  hashAlgorithm: z.literal('SHA-256', { error: 'must be SHA-256' }),
  newestEventTime: isoTime.nullish(),
  oldestEventTime: isoTime.nullish(),
});

const digestSchema = z.looseObject({
  awsAccountId: z.string().min(1),
  digestStartTime: isoTime,
  digestEndTime: isoTime,
  digestS3Bucket: z.string().min(1),
  digestS3Object: z.string().min(1),
  digestPublicKeyFingerprint: z.string().regex(/^[0-9a-f]{32}$/i, 'must be 32 hex digits'),
  digestSignatureAlgorithm: z.literal('SHA256withRSA', { error: 'must be SHA256withRSA' }),
  newestEventTime: isoTime.nullish(),
  oldestEventTime: isoTime.nullish(),
  previousDigestS3Bucket: z.string().nullable(),
  previousDigestS3Object: z.string().nullable(),
  previousDigestHashValue: z.string().regex(SHA256_HEX, 'must be a SHA-256 as 64 hex digits').nullable(),
  previousDigestHashAlgorithm: z.string().nullable(),
  previousDigestSignature: z.string().regex(/^[0-9a-f]+$/i, 'must be hex digits').nullable(),
  logFiles: z.array(logFileSchema),
});

export type DigestFile = z.output<typeof digestSchema>;
export type DigestLogFile = DigestFile['logFiles'][number];

/** A digest that is not what CloudTrail writes: its key and the field that is wrong. */
export class DigestFormatError extends Error {
  override readonly name = 'DigestFormatError';
}

/** The digest's fields from its (decompressed) text; `key` names it in the error. */
export function parseDigest(text: string, key: string): DigestFile {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new DigestFormatError(`${key}: not a CloudTrail digest: not valid JSON (${(error as Error).message})`);
  }
  const parsed = digestSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
    const message = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is missing' : issue.message;
    throw new DigestFormatError(`${key}: not a CloudTrail digest: ${field || 'the document'}: ${message}`);
  }
  return parsed.data;
}

/** Backfill digests (`…_backfill.json.gz`) list log files a digest missed; they stand outside the hourly chain. */
export function isBackfillDigest(key: string): boolean {
  return /_backfill\.json(\.gz)?$/.test(key);
}

/**
 * The chain a digest belongs to: one per trail, account and region (the key without its end
 * time): `…/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261123T100000Z.json.gz`
 * → `111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1`.
 */
export function chainOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name.replace(/_\d{8}T\d{6}Z(_backfill)?\.json(\.gz)?$/, '');
}
