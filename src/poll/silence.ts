/**
 * `expect_objects_within`: a partition that has delivered nothing newer for that long is silent.
 * For CloudTrail that is how a stopped trail or a removed account shows: a security event in
 * itself, so it is reported, not inferred from a quiet log.
 */
import type { PartitionRow } from '../state/types.js';

export interface Silence {
  prefix: string;
  /** LastModified of the newest object the partition delivered. */
  newestObjectMs: number;
  silentForMs: number;
}

/**
 * The silent partitions, judged by the newest delivered object's LastModified. A partition that
 * has delivered nothing yet is not judged (there is nothing to be late after).
 */
export function silentPartitions(partitions: PartitionRow[], withinMs: number, nowMs: number): Silence[] {
  const silent: Silence[] = [];
  for (const partition of partitions) {
    const newest = partition.newestDoneModifiedMs;
    if (!newest) continue;
    if (nowMs - newest > withinMs) silent.push({ prefix: partition.prefix, newestObjectMs: newest, silentForMs: nowMs - newest });
  }
  return silent;
}

/** Remembers which partitions are silent, so that the log says when one falls silent and when it speaks again, once each. */
export class SilenceWatch {
  private silent = new Set<string>();

  update(partitions: PartitionRow[], withinMs: number, nowMs: number): { began: Silence[]; ended: string[] } {
    const now = silentPartitions(partitions, withinMs, nowMs);
    const nowSilent = new Set(now.map((silence) => silence.prefix));
    const began = now.filter((silence) => !this.silent.has(silence.prefix));
    const ended = [...this.silent].filter((prefix) => !nowSilent.has(prefix));
    this.silent = nowSilent;
    return { began, ended };
  }
}
