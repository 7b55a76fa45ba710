import type { S3Lister } from '../aws/types.js';
import type { DiscoveredPartition } from '../state/types.js';
import { isUnpaddedDateFolder } from './date-order.js';

/** Deeper than this, a folder is taken as a partition as it is (a guard against odd trees). */
const MAX_DEPTH = 8;
const YEAR_FOLDER = /(^|\/)\d{4}\/$/;

/**
 * Finds the partitions under a prefix: the folders inside which keys sort by time, each of which
 * gets its own marker. Walks down with Delimiter "/" and stops at a folder whose sub-folders are
 * years (`AWSLogs/<account>/CloudTrail/<region>/2026/`), or that holds objects itself; such a
 * folder is a partition. So a prefix spanning several accounts, organization trails, regions or
 * services yields one partition each, and a prefix with no date folders is a single partition.
 * Digest folders are not walked: their objects are skipped anyway.
 */
export async function discoverPartitions(lister: S3Lister, prefix: string, signal: AbortSignal): Promise<DiscoveredPartition[]> {
  const partitions: DiscoveredPartition[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    if (depth >= MAX_DEPTH) {
      partitions.push({ prefix: folder, unpaddedDates: false });
      return;
    }
    const level = await lister.listFolders(folder, signal);
    const years = level.folders.filter((child) => YEAR_FOLDER.test(child)).sort();
    if (years.length > 0 && !level.hasObjects) {
      partitions.push({ prefix: folder, unpaddedDates: await hasUnpaddedDates(lister, years.at(-1)!, signal), dated: true });
      return;
    }
    if (level.hasObjects || level.folders.length === 0) {
      partitions.push({ prefix: folder, unpaddedDates: false });
      return;
    }
    for (const child of level.folders) {
      if (/(^|\/)CloudTrail-Digest\/$/.test(child)) continue;
      await walk(child, depth + 1);
    }
  };
  await walk(prefix, 0);
  return partitions.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/** Looks at the newest year's months, and the newest month's days, for a folder like `9/`. */
async function hasUnpaddedDates(lister: S3Lister, year: string, signal: AbortSignal): Promise<boolean> {
  const months = (await lister.listFolders(year, signal)).folders;
  if (months.some(isUnpaddedDateFolder)) return true;
  const lastMonth = months.sort((a, b) => Number(a.slice(year.length, -1)) - Number(b.slice(year.length, -1))).at(-1);
  if (!lastMonth) return false;
  return (await lister.listFolders(lastMonth, signal)).folders.some(isUnpaddedDateFolder);
}

/** The scope of a source's state: when it changes, the state is cleared (JSA's prefix rule). */
export function scopeOf(source: { endpoint?: string | undefined; bucket: string; prefix: string; collection: { type: 'prefix' } | { type: 'sqs'; queue_url: string } }): string {
  // An SQS source with a bucket shares the prefix source's scope: switching modes keeps the
  // marker and the ledger, so nothing is pulled twice.
  if (source.collection.type === 'sqs' && source.bucket === '') return JSON.stringify({ queue: source.collection.queue_url });
  return JSON.stringify({ endpoint: source.endpoint ?? 'aws', bucket: source.bucket, prefix: source.prefix });
}
