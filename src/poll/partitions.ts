import type { SourceConfig } from '../config/schema.js';
import type { S3Lister } from '../aws/types.js';

/** Deeper than this, a folder is taken as a partition as it is (a guard against odd trees). */
const MAX_DEPTH = 8;
const YEAR_FOLDER = /\/(\d{4})\/$/;

/**
 * Finds the partitions under a prefix: the folders inside which keys sort by time, each of which
 * gets its own marker. Walks down with Delimiter "/" and stops at a folder whose sub-folders are
 * years (`AWSLogs/<account>/CloudTrail/<region>/2026/`), or that holds objects itself; such a
 * folder is a partition. So a prefix spanning several accounts, organization trails, regions or
 * services yields one partition each, and a prefix with no date folders is a single partition.
 * Digest folders are not walked: their objects are skipped anyway.
 */
export async function discoverPartitions(lister: S3Lister, prefix: string, signal: AbortSignal): Promise<string[]> {
  const partitions: string[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    if (depth >= MAX_DEPTH) {
      partitions.push(folder);
      return;
    }
    const level = await lister.listFolders(folder, signal);
    if (level.hasObjects || level.folders.length === 0 || level.folders.some((child) => YEAR_FOLDER.test(child))) {
      partitions.push(folder);
      return;
    }
    for (const child of level.folders) {
      if (/(^|\/)CloudTrail-Digest\/$/.test(child)) continue;
      await walk(child, depth + 1);
    }
  };
  await walk(prefix, 0);
  return partitions.sort();
}

/** The scope of a source's state: when it changes, the state is cleared (JSA's prefix rule). */
export function scopeOf(source: Pick<SourceConfig, 'endpoint' | 'bucket' | 'prefix'>): string {
  return JSON.stringify({ endpoint: source.endpoint ?? 'aws', bucket: source.bucket, prefix: source.prefix });
}
