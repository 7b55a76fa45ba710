/**
 * Date folders that are not zero-padded (AWS Config writes `2026/11/9/`) sort wrongly as text:
 * `2026/11/10/` comes before `2026/11/9/`, and S3 lists in text order. For such partitions keys
 * are compared by a sort key with the date folders padded, and listing walks the year, month and
 * day folders in date order, each day folder in S3's own order from the marker on.
 */
import type { ObjectInfo, S3Lister } from '../aws/types.js';

const DATE_FOLDER = /^(\d{1,4})\/$/;

/** The key with its first three numeric folders after the partition padded to 4, 2 and 2 digits. */
export function dateSortKey(partition: string, key: string): string {
  if (!key.startsWith(partition)) return key;
  const parts = key.slice(partition.length).split('/');
  const widths = [4, 2, 2];
  for (let index = 0; index < widths.length && index < parts.length - 1; index += 1) {
    if (!/^\d+$/.test(parts[index]!)) break;
    parts[index] = parts[index]!.padStart(widths[index]!, '0');
  }
  return partition + parts.join('/');
}

/** Whether a folder name (`9/`, `10/`) is a date part written without its leading zero. */
export function isUnpaddedDateFolder(folder: string): boolean {
  const name = folder.split('/').at(-2) ?? '';
  return /^\d$/.test(name);
}

/** Numeric sub-folders of `folder`, in numeric order; undefined when it holds anything else. */
async function dateChildren(lister: S3Lister, folder: string, signal: AbortSignal): Promise<string[] | undefined> {
  const level = await lister.listFolders(folder, signal);
  const names = level.folders.map((child) => child.slice(folder.length));
  if (level.hasObjects || names.length === 0 || !names.every((name) => DATE_FOLDER.test(name))) return undefined;
  return level.folders.sort((a, b) => Number(a.slice(folder.length, -1)) - Number(b.slice(folder.length, -1)));
}

/**
 * Lists a partition in date order from `settledKey` on: the year, month and day folders at or
 * after the marker's, numerically; inside the marker's own day folder, from the marker.
 */
export async function* listInDateOrder(lister: S3Lister, partition: string, settledKey: string, signal: AbortSignal): AsyncIterable<ObjectInfo[]> {
  const marker = settledKey ? dateSortKey(partition, settledKey) : '';
  async function* walk(folder: string, depth: number): AsyncIterable<ObjectInfo[]> {
    const children = depth < 3 ? await dateChildren(lister, folder, signal) : undefined;
    if (!children) {
      const startAfter = settledKey.startsWith(folder) ? settledKey : undefined;
      yield* lister.listPages(folder, startAfter, signal);
      return;
    }
    for (const child of children) {
      // A folder wholly before the marker's (in date order) holds nothing new.
      const padded = dateSortKey(partition, `${child}\uffff`);
      if (marker && padded < marker && !marker.startsWith(dateSortKey(partition, child))) continue;
      yield* walk(child, depth + 1);
    }
  }
  yield* walk(partition, 0);
}
