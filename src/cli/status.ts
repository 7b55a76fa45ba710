import { silentPartitions } from '../poll/silence.js';
import { utcDay } from '../util/clock.js';
import type { LoadedSource } from '../config/load.js';
import type { PartitionRow, SourceRow, Store } from '../state/types.js';
import { scopeOf } from '../poll/partitions.js';

export interface SourceStatus {
  id: string;
  enabled: boolean;
  bucket: string;
  prefix: string;
  /** False when the state belongs to another bucket or prefix: the next poll starts over. */
  stateMatchesConfig: boolean;
  partitions: PartitionRow[];
  lastPollStart: string | null;
  lastPollEnd: string | null;
  lastPollStatus: string | null;
  lastPollError: string | null;
  nextPoll: string | null;
  objectsDone: number;
  objectsFailed: number;
  objectsSkipped: number;
  events: number;
  badLines: number;
  /** Events dropped as repeats (dedup). */
  duplicates: number;
  /** Age of the newest delivered object, in seconds. */
  lagSeconds: number | null;
  pendingReset: SourceRow['resetRequest'];
  collection: 'prefix' | 'sqs';
  /** SQS sources: the queue as the service last saw it (approximate, as SQS counts). */
  queue: { url: string; messages: number | null; inFlight: number | null; oldestMessageAgeSeconds: number | null; checked: string | null } | null;
  /**
   * AWS requests made for this source over the last 7 UTC days: day (YYYY-MM-DD) → operation →
   * count, every attempt counted (as AWS bills them). The service stores them every minute.
   */
  requests: Record<string, Record<string, number>>;
  /** With `expect_objects_within`: the partitions that delivered nothing newer for that long. */
  silent: { prefix: string; newestObject: string; silentForSeconds: number; expectedWithinSeconds: number }[];
  /**
   * With `cloudtrail.digests: verify`: what the digests of the last two days proved at their last
   * check (by the poll, at most hourly): digests checked, files recovered, problems by kind.
   */
  digests: { lastCheck: string | null; checked: number; recovered: number; problems: Record<string, number> } | null;
  /** Backfill and replay jobs (`s3pull backfill`), newest first, the last few. */
  jobs: { job: number; kind: string; from: string; to: string; output: string | null; started: string; finished: string | null; foldersDone: number; objects: number; events: number }[];
}

/** Jobs `sources` shows. */
const JOBS_SHOWN = 5;

/** Days of request counts `sources` shows. */
const REQUEST_DAYS = 7;

export function sourceStatus(source: LoadedSource, store: Store | undefined, nowMs: number): SourceStatus {
  const row = store?.getSource(source.id);
  const partitions = row ? store!.partitions(source.id) : [];
  const newest = Math.max(0, ...partitions.map((p) => p.newestDoneModifiedMs ?? 0));
  const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);
  return {
    id: source.id,
    enabled: source.enabled,
    bucket: source.bucket,
    prefix: source.prefix || '/',
    stateMatchesConfig: row ? row.scope === scopeOf(source) : true,
    partitions,
    lastPollStart: iso(row?.lastPollStartMs),
    lastPollEnd: iso(row?.lastPollEndMs),
    lastPollStatus: row?.lastPollStatus ?? null,
    lastPollError: row?.lastPollError ?? null,
    nextPoll: iso(row?.nextPollMs),
    objectsDone: row?.objectsDone ?? 0,
    objectsFailed: row?.objectsFailed ?? 0,
    objectsSkipped: row?.objectsSkipped ?? 0,
    events: row?.events ?? 0,
    badLines: row?.badLines ?? 0,
    duplicates: row?.duplicates ?? 0,
    lagSeconds: newest > 0 ? Math.round((nowMs - newest) / 1000) : null,
    pendingReset: row?.resetRequest ?? null,
    collection: source.collection.type,
    queue:
      source.collection.type === 'sqs'
        ? {
            url: source.collection.queue_url,
            messages: row?.queue?.messages ?? null,
            inFlight: row?.queue?.inFlight ?? null,
            oldestMessageAgeSeconds: row?.queue?.oldestSentMs ? Math.round(((row.queue.checkedMs ?? nowMs) - row.queue.oldestSentMs) / 1000) : null,
            checked: iso(row?.queue?.checkedMs),
          }
        : null,
    requests: row ? store!.requestsSince(source.id, utcDay(nowMs - (REQUEST_DAYS - 1) * 86_400_000)) : {},
    silent:
      source.expect_objects_within === undefined
        ? []
        : silentPartitions(partitions, source.expect_objects_within, nowMs).map((silence) => ({
            prefix: silence.prefix || '/',
            newestObject: new Date(silence.newestObjectMs).toISOString(),
            silentForSeconds: Math.round(silence.silentForMs / 1000),
            expectedWithinSeconds: Math.round(source.expect_objects_within! / 1000),
          })),
    digests: source.cloudtrail?.digests === 'verify' ? digestStatus(row ? store : undefined, source.id, nowMs) : null,
    jobs: row
      ? store!
          .jobs(source.id)
          .slice(0, JOBS_SHOWN)
          .map((job) => ({
            job: job.jobId,
            kind: job.kind,
            from: job.fromDay,
            to: job.toDay,
            output: job.output,
            started: iso(job.startedMs)!,
            finished: iso(job.finishedMs),
            foldersDone: store!.jobFoldersDone(job.jobId).size,
            objects: job.objectsDone,
            events: job.events,
          }))
      : [],
  };
}

function digestStatus(store: Store | undefined, sourceId: string, nowMs: number): NonNullable<SourceStatus['digests']> {
  const checks = store ? store.digestChecks(sourceId, nowMs - 2 * 86_400_000) : [];
  const problems: Record<string, number> = {};
  for (const check of checks) for (const finding of check.findings) if (finding.kind !== 'unhashed') problems[finding.kind] = (problems[finding.kind] ?? 0) + 1;
  const last = store?.lastDigestCheckMs(sourceId);
  return { lastCheck: last ? new Date(last).toISOString() : null, checked: checks.length, recovered: checks.reduce((sum, check) => sum + check.recovered, 0), problems };
}

export function describeMarker(partitions: PartitionRow[], maxWidth = Infinity): string {
  if (partitions.length === 0) return '(not polled yet)';
  if (partitions.length > 1) return `${partitions.length} partitions (s3pull marker show)`;
  const partition = partitions[0]!;
  return partition.settledKey ? shortMarker(partition.settledKey, partition.prefix, maxWidth) : '(beginning)';
}

/**
 * A marker as a table cell: the key below its partition's prefix (which the source's prefix
 * already says), cut in the middle when still too long, so that the date folders at the start and
 * the file's time and suffix at the end, which tell markers apart, stay. Full keys: --json, marker show.
 */
export function shortMarker(key: string, prefix: string, maxWidth: number): string {
  const below = prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
  if (below.length <= maxWidth) return below;
  const keep = Math.max(maxWidth - 1, 2);
  // The date folders at the start (2026/11/23/), the rest of the room for the end of the name.
  const dates = /^(\d{1,4}\/)*/.exec(below)![0].length;
  const head = Math.min(dates || Math.ceil(keep * 0.4), Math.floor(keep / 2));
  return `${below.slice(0, head)}…${below.slice(below.length - (keep - head))}`;
}

/** The width a table may take: the terminal's, or COLUMNS, or 100 when neither says. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  return stream.columns || Number(env.COLUMNS) || 100;
}

export function ago(iso: string | null, nowMs: number): string {
  if (!iso) return '-';
  const seconds = Math.round((nowMs - Date.parse(iso)) / 1000);
  return seconds >= 0 ? `${humanSeconds(seconds)} ago` : `in ${humanSeconds(-seconds)}`;
}

export function humanSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
