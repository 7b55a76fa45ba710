/**
 * `s3pull verify`: a CloudTrail source's digests of a time span, checked against what the source
 * delivered. For each partition the source has polled (an account and region), the digests beside
 * it are read day folder by day folder; each is checked for its signature and its place in the
 * chain, and every log file it lists is looked up in the ledger: delivered, and with the SHA-256
 * CloudTrail recorded.
 */
import type { KeyObject } from 'node:crypto';
import type { S3Bucket } from '../aws/types.js';
import type { Store } from '../state/types.js';
import { daysBetween, digestPrefixOf, readDigests, type UnreadableDigest } from './digest-reader.js';
import { checkChains, checkLogFiles, checkSignature, type Finding, type LedgerEntry, type ReadDigest } from './verify.js';

export interface VerifyReport {
  partitions: string[];
  digests: number;
  filesListed: number;
  filesDelivered: number;
  findings: Finding[];
  unreadable: UnreadableDigest[];
}

export interface VerifyOptions {
  sourceId: string;
  store: Store;
  bucket: S3Bucket;
  /** CloudTrail's public keys that may have signed a digest of this fingerprint. */
  keysFor: (fingerprint: string) => readonly KeyObject[];
  /** Digests whose hour ended in [sinceMs, untilMs] are checked. */
  sinceMs: number;
  untilMs: number;
  signal: AbortSignal;
}

/**
 * The digests beside one partition whose hour ended in [sinceMs, untilMs], and the objects of its
 * digest folder that could not be read as digests; undefined for a partition that is not a
 * CloudTrail one.
 */
export async function partitionDigests(bucket: S3Bucket, partition: string, sinceMs: number, untilMs: number, signal: AbortSignal): Promise<{ read: ReadDigest[]; unreadable: UnreadableDigest[] } | undefined> {
  const digestPrefix = digestPrefixOf(partition);
  if (!digestPrefix) return undefined;
  const read: ReadDigest[] = [];
  const unreadable: UnreadableDigest[] = [];
  for await (const item of readDigests(bucket, digestPrefix, daysBetween(sinceMs, untilMs), signal)) {
    if (!('digest' in item)) unreadable.push(item);
    else {
      const ended = Date.parse(item.digest.digestEndTime);
      if (ended >= sinceMs && ended <= untilMs) read.push(item);
    }
  }
  return { read, unreadable };
}

/** What the ledger says of each log file a digest lists (those of the source's bucket; others are not its). */
export function ledgerOf(store: Store, sourceId: string, bucketName: string, digest: ReadDigest): (bucket: string, key: string) => LedgerEntry | undefined {
  const keys = digest.digest.logFiles.filter((file) => file.s3Bucket === bucketName).map((file) => file.s3Object);
  const ledger = store.ledger(sourceId, bucketName, keys);
  return (fileBucket, key) => {
    const row = fileBucket === bucketName ? ledger.get(key) : undefined;
    return row ? { done: row.status === 'done', sha256: row.sha256 ?? undefined } : undefined;
  };
}

/** A file delivered before hashing was turned on is shown, but proves nothing either way. */
export const isProblem = (finding: Finding): boolean => finding.kind !== 'unhashed';

export async function verifySource(options: VerifyOptions): Promise<VerifyReport> {
  const { sourceId, store, bucket, signal } = options;
  const report: VerifyReport = { partitions: [], digests: 0, filesListed: 0, filesDelivered: 0, findings: [], unreadable: [] };
  const read: ReadDigest[] = [];
  for (const partition of store.partitions(sourceId)) {
    const found = await partitionDigests(bucket, partition.prefix, options.sinceMs, options.untilMs, signal);
    if (!found) continue;
    report.partitions.push(partition.prefix);
    read.push(...found.read);
    report.unreadable.push(...found.unreadable);
  }
  report.digests = read.length;
  for (const digest of read) {
    const signature = checkSignature(digest, options.keysFor);
    if (signature) report.findings.push(signature);
    const files = checkLogFiles(digest, ledgerOf(store, sourceId, bucket.bucket, digest));
    report.filesListed += digest.digest.logFiles.length;
    report.filesDelivered += digest.digest.logFiles.length - files.filter((finding) => finding.kind === 'missing').length;
    report.findings.push(...files);
  }
  report.findings.push(...checkChains(read));
  return report;
}

/** How many things the report shows that a security team must look at. */
export function problemCount(report: VerifyReport): number {
  return report.findings.filter(isProblem).length + report.unreadable.length;
}
