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
import { checkChains, checkLogFiles, checkSignature, type Finding, type ReadDigest } from './verify.js';

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

export async function verifySource(options: VerifyOptions): Promise<VerifyReport> {
  const { sourceId, store, bucket, signal } = options;
  const report: VerifyReport = { partitions: [], digests: 0, filesListed: 0, filesDelivered: 0, findings: [], unreadable: [] };
  const days = daysBetween(options.sinceMs, options.untilMs);
  const read: ReadDigest[] = [];
  for (const partition of store.partitions(sourceId)) {
    const digestPrefix = digestPrefixOf(partition.prefix);
    if (!digestPrefix) continue;
    report.partitions.push(partition.prefix);
    for await (const item of readDigests(bucket, digestPrefix, days, signal)) {
      if (!('digest' in item)) {
        report.unreadable.push(item);
        continue;
      }
      const ended = Date.parse(item.digest.digestEndTime);
      if (ended < options.sinceMs || ended > options.untilMs) continue;
      read.push(item);
    }
  }
  report.digests = read.length;
  for (const digest of read) {
    const signature = checkSignature(digest, options.keysFor);
    if (signature) report.findings.push(signature);
    const keys = digest.digest.logFiles.filter((file) => file.s3Bucket === bucket.bucket).map((file) => file.s3Object);
    const ledger = store.ledger(sourceId, bucket.bucket, keys);
    report.filesListed += digest.digest.logFiles.length;
    const files = checkLogFiles(digest, (fileBucket, key) => {
      const row = fileBucket === bucket.bucket ? ledger.get(key) : undefined;
      return row ? { done: row.status === 'done', sha256: row.sha256 ?? undefined } : undefined;
    });
    report.filesDelivered += digest.digest.logFiles.length - files.filter((finding) => finding.kind === 'missing').length;
    report.findings.push(...files);
  }
  report.findings.push(...checkChains(read));
  return report;
}

/** Whether the report shows anything a security team must look at. */
export function hasProblems(report: VerifyReport): boolean {
  // A file delivered before hashing was turned on is shown, but proves nothing either way.
  return report.findings.some((finding) => finding.kind !== 'unhashed') || report.unreadable.length > 0;
}
