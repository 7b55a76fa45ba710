/** Keys under year/month/day folders, as AWS writes its logs (`…/2026/11/23/…`, or `…/2026/11/9/…` for Config). */

/** The UTC day (YYYY-MM-DD) of a key under a partition's year/month/day folders, padded or not; undefined for other keys. */
export function dayOfKey(partition: string, key: string): string | undefined {
  if (!key.startsWith(partition)) return undefined;
  const match = /^(\d{4})\/(\d{1,2})\/(\d{1,2})\//.exec(key.slice(partition.length));
  return match ? `${match[1]}-${match[2]!.padStart(2, '0')}-${match[3]!.padStart(2, '0')}` : undefined;
}
