/**
 * What a set of digests proves about what was pulled: each digest's signature, the chain from
 * digest to digest, and for every log file a digest lists, whether it was delivered and whether
 * the bytes delivered are the bytes CloudTrail wrote. The judgements only; reading the digests
 * and the ledger is the caller's.
 */
import type { KeyObject } from 'node:crypto';
import { chainOf, isBackfillDigest, type DigestFile } from './digest-file.js';
import { signatureHolds } from './signature.js';

/** A digest as read from S3. */
export interface ReadDigest {
  bucket: string;
  key: string;
  digest: DigestFile;
  /** SHA-256 (hex) of the digest's decompressed bytes. */
  sha256: string;
  /** The object's `x-amz-meta-signature`, absent when the object has none. */
  signature: string | undefined;
}

export type Finding =
  | { kind: 'bad_signature'; digest: string; reason: string }
  | { kind: 'chain_gap'; digest: string; from: string; to: string; reason: string }
  | { kind: 'missing'; digest: string; bucket: string; key: string }
  | { kind: 'hash_mismatch'; digest: string; bucket: string; key: string; expected: string; found: string }
  | { kind: 'unhashed'; digest: string; bucket: string; key: string };

/** What the ledger says of one log file: delivered or not, and the SHA-256 of what was delivered. */
export interface LedgerEntry {
  done: boolean;
  sha256: string | undefined;
}

/**
 * `keysFor` gives the public keys that may have signed a digest of this fingerprint: the one
 * ListPublicKeys names, or every key of a configured key file (a signature that verifies under
 * a trusted key is what counts).
 */
export function checkSignature(read: ReadDigest, keysFor: (fingerprint: string) => readonly KeyObject[]): Finding | undefined {
  const fingerprint = read.digest.digestPublicKeyFingerprint;
  if (read.signature === undefined) return { kind: 'bad_signature', digest: read.key, reason: 'the object has no x-amz-meta-signature' };
  if (read.digest.digestS3Bucket !== read.bucket || read.digest.digestS3Object !== read.key) {
    // A digest copied to another place still verifies, but it does not speak for this place.
    return { kind: 'bad_signature', digest: read.key, reason: `it names itself ${read.digest.digestS3Bucket}/${read.digest.digestS3Object}` };
  }
  const keys = keysFor(fingerprint);
  if (keys.length === 0) return { kind: 'bad_signature', digest: read.key, reason: `no public key with fingerprint ${fingerprint}` };
  const signature = read.signature;
  return keys.some((key) => signatureHolds(read.digest, read.sha256, signature, key)) ? undefined : { kind: 'bad_signature', digest: read.key, reason: `the signature does not verify with the public key ${fingerprint}` };
}

/**
 * The chains of hourly digests (one per trail, account and region), each in time order: every
 * digest must name the one before it, with that digest's hash and signature. A digest that names
 * none (logging was stopped and started again) or names one that is not there (deleted, or never
 * written) leaves the time between the two uncovered; a named digest whose bytes or signature
 * differ from what its successor recorded was altered. Backfill digests stand outside the chain.
 */
export function checkChains(digests: readonly ReadDigest[]): Finding[] {
  const chains = new Map<string, ReadDigest[]>();
  for (const read of digests) {
    if (isBackfillDigest(read.key)) continue;
    const chain = chainOf(read.key);
    const members = chains.get(chain);
    if (members) members.push(read);
    else chains.set(chain, [read]);
  }
  const findings: Finding[] = [];
  for (const members of chains.values()) {
    members.sort((a, b) => Date.parse(a.digest.digestEndTime) - Date.parse(b.digest.digestEndTime));
    for (let index = 1; index < members.length; index += 1) {
      const before = members[index - 1]!;
      const read = members[index]!;
      const digest = read.digest;
      const span = { from: before.digest.digestEndTime, to: digest.digestStartTime };
      if (digest.previousDigestS3Object === null) {
        findings.push({ kind: 'chain_gap', digest: read.key, ...span, reason: 'it starts a new chain: logging was stopped, or its previous digest was not written' });
      } else if (digest.previousDigestS3Object !== before.key || digest.previousDigestS3Bucket !== before.bucket) {
        findings.push({ kind: 'chain_gap', digest: read.key, ...span, reason: `its previous digest ${digest.previousDigestS3Bucket}/${digest.previousDigestS3Object} is missing (deleted, or never delivered)` });
      } else if (digest.previousDigestHashValue !== before.sha256) {
        findings.push({ kind: 'chain_gap', digest: read.key, ...span, reason: `its previous digest ${before.key} was altered: its SHA-256 is ${before.sha256}, this digest recorded ${digest.previousDigestHashValue}` });
      } else if (before.signature !== undefined && digest.previousDigestSignature !== before.signature) {
        findings.push({ kind: 'chain_gap', digest: read.key, ...span, reason: `its previous digest ${before.key} carries another signature than this digest recorded` });
      }
    }
  }
  return findings;
}

/** Every log file the digest lists: delivered, and with the bytes CloudTrail hashed. */
export function checkLogFiles(read: ReadDigest, ledger: (bucket: string, key: string) => LedgerEntry | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const file of read.digest.logFiles) {
    const entry = ledger(file.s3Bucket, file.s3Object);
    const where = { digest: read.key, bucket: file.s3Bucket, key: file.s3Object };
    if (!entry?.done) findings.push({ kind: 'missing', ...where });
    else if (entry.sha256 === undefined) findings.push({ kind: 'unhashed', ...where });
    else if (entry.sha256.toLowerCase() !== file.hashValue.toLowerCase()) findings.push({ kind: 'hash_mismatch', ...where, expected: file.hashValue.toLowerCase(), found: entry.sha256 });
  }
  return findings;
}
