/**
 * The digest check of a poll (`cloudtrail.digests: verify`), at most once an hour per source:
 * the digests of the last two days (or of `history_retention`, if shorter: the ledger forgets
 * older files) beside each partition are read and judged; a log file a digest lists that was
 * never delivered — one that arrived after the marker passed its place — is pulled now, through
 * the poll's own object path, and counted as recovered. What each digest proved is stored, and a
 * problem is logged when it is first found (a security event, at error level).
 */
import type { ObjectRef, S3Bucket } from '../aws/types.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../state/types.js';
import { emit } from '../telemetry/events.js';
import { StateError, errorMessage, isAbortError } from '../util/errors.js';
import { isProblem, ledgerOf, partitionDigests } from './verify-source.js';
import type { KeysFor } from './public-keys.js';
import { checkChains, checkLogFiles, checkSignature, type Finding } from './verify.js';

export const DIGEST_CHECK_INTERVAL_MS = 3_600_000;
const LOOKBACK_MS = 2 * 86_400_000;

export interface DigestPollContext {
  sourceId: string;
  store: Store;
  bucket: S3Bucket;
  nowMs: number;
  historyRetentionMs: number;
  log: Logger;
  signal: AbortSignal;
  keys: (sinceMs: number, untilMs: number, signal: AbortSignal) => Promise<KeysFor>;
  /** At most this often per source (DIGEST_CHECK_INTERVAL_MS in the service, 0 for `once`). */
  everyMs: number;
  /** Whether the source would pull this key at all (its file_pattern and start). */
  wanted: (object: ObjectRef) => boolean;
  /** Pulls objects of a partition through the poll's object path; returns the keys that are done. */
  pull: (objects: ObjectRef[], partition: string) => Promise<Set<string>>;
}

export interface DigestPollResult {
  checked: boolean;
  digests: number;
  recovered: number;
  problems: number;
}

export async function checkDigestsInPoll(context: DigestPollContext): Promise<DigestPollResult> {
  const { sourceId, store, bucket, nowMs, log, signal } = context;
  const result: DigestPollResult = { checked: false, digests: 0, recovered: 0, problems: 0 };
  const last = store.lastDigestCheckMs(sourceId);
  if (last !== null && nowMs - last < context.everyMs) return result;
  const sinceMs = nowMs - Math.min(LOOKBACK_MS, context.historyRetentionMs);
  let keysFor: KeysFor;
  try {
    keysFor = await context.keys(sinceMs, nowMs, signal);
  } catch (error) {
    emit(log, 'digest_check_failed', { error: errorMessage(error) });
    return result;
  }
  const before = new Map(store.digestChecks(sourceId, sinceMs).map((row) => [row.key, row]));
  for (const partition of store.partitions(sourceId)) {
    let found: Awaited<ReturnType<typeof partitionDigests>>;
    try {
      found = await partitionDigests(bucket, partition.prefix, sinceMs, nowMs, signal);
    } catch (error) {
      // S3 refused or broke off: what was delivered stands; the check is tried again at the next poll.
      if (isAbortError(error) || error instanceof StateError) throw error;
      emit(log, 'digest_check_failed', { error: errorMessage(error) });
      return result;
    }
    if (!found) continue;
    for (const item of found.unreadable) {
      store.recordDigestCheck(sourceId, { key: item.key, endMs: nowMs, checkedMs: nowMs, filesListed: 0, filesDelivered: 0, recovered: 0, findings: [{ kind: 'unreadable', digest: item.key, reason: item.reason }] });
      if (!before.has(item.key)) emit(log, 'digest_finding', { source: sourceId, finding: 'unreadable', digest: item.key, detail: item.reason });
      result.problems += 1;
    }
    const gaps = checkChains(found.read);
    for (const digest of found.read) {
      let lookup = ledgerOf(store, sourceId, bucket.bucket, digest);
      // Listed, this source's, and never seen by it (no ledger row: a quarantined or skipped file
      // is not pulled again behind the source's back): pulled now, from behind the marker.
      const unseen = digest.digest.logFiles.filter((file) => file.s3Bucket === bucket.bucket && file.s3Object.startsWith(partition.prefix) && lookup(file.s3Bucket, file.s3Object) === undefined);
      let recovered = 0;
      if (unseen.length > 0 && !signal.aborted) {
        const newest = new Date(Date.parse(digest.digest.newestEventTime ?? digest.digest.digestEndTime));
        // Size unknown (-1): the digest does not say it, and a HEAD per file would cost a request each.
        const refs: ObjectRef[] = unseen.map((file) => ({ bucket: bucket.bucket, key: file.s3Object, etag: '', size: -1, lastModified: newest })).filter(context.wanted);
        const done = await context.pull(refs, partition.prefix);
        recovered = done.size;
        for (const key of done) emit(log, 'object_recovered', { key, digest: digest.key });
        lookup = ledgerOf(store, sourceId, bucket.bucket, digest);
      }
      const files = checkLogFiles(digest, lookup);
      const signature = checkSignature(digest, keysFor);
      const findings: Finding[] = [...(signature ? [signature] : []), ...files, ...gaps.filter((gap) => gap.digest === digest.key)];
      const known = new Set((before.get(digest.key)?.findings ?? []).map((finding) => JSON.stringify(finding)));
      for (const finding of findings.filter(isProblem)) {
        if (known.has(JSON.stringify(finding))) continue;
        emit(log, 'digest_finding', { source: sourceId, finding: finding.kind, digest: finding.digest, key: 'key' in finding ? finding.key : undefined, detail: describeFinding(finding) });
      }
      store.recordDigestCheck(sourceId, {
        key: digest.key,
        endMs: Date.parse(digest.digest.digestEndTime),
        checkedMs: nowMs,
        filesListed: digest.digest.logFiles.length,
        filesDelivered: digest.digest.logFiles.length - files.filter((finding) => finding.kind === 'missing').length,
        recovered,
        findings,
      });
      result.digests += 1;
      result.recovered += recovered;
      result.problems += findings.filter(isProblem).length;
    }
  }
  // The table stays bounded: older digests are outside every later check.
  store.pruneDigestChecks(sourceId, sinceMs);
  store.recordDigestCheckTime(sourceId, nowMs);
  result.checked = true;
  return result;
}

/** One line for a finding, as `s3pull verify` and the log show it. */
export function describeFinding(finding: Finding): string {
  switch (finding.kind) {
    case 'missing':
      return `not delivered: ${finding.bucket}/${finding.key} (listed by ${finding.digest})`;
    case 'hash_mismatch':
      return `HASH MISMATCH: ${finding.bucket}/${finding.key}: delivered bytes have SHA-256 ${finding.found}, CloudTrail recorded ${finding.expected} (${finding.digest})`;
    case 'unhashed':
      return `not checked: ${finding.bucket}/${finding.key} was delivered before cloudtrail.digests: verify was set (${finding.digest})`;
    case 'chain_gap':
      return `CHAIN GAP ${finding.from} – ${finding.to}: ${finding.digest}: ${finding.reason}`;
    case 'bad_signature':
      return `BAD SIGNATURE: ${finding.digest}: ${finding.reason}`;
  }
}
