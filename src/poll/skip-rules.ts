import type { ObjectInfo } from '../aws/types.js';
import type { KeyPattern } from '../util/key-pattern.js';

export type SkipReason = 'folder' | 'empty' | 'digest' | 'check_file' | 'pattern' | 'before_start';

/**
 * Objects that are never pulled, on purpose: folder placeholders, zero-byte objects, CloudTrail
 * digest files (integrity proofs, not events), the file AWS Config writes to test that it may
 * write to the bucket, keys the file_pattern does not match, and objects
 * older than the source's start.
 */
export function skipReason(object: ObjectInfo, filePattern: Pick<KeyPattern, 'test'>, sinceMs: number | null): SkipReason | undefined {
  if (object.key.endsWith('/')) return 'folder';
  if (object.size === 0) return 'empty';
  if (object.key.includes('/CloudTrail-Digest/') || object.key.startsWith('CloudTrail-Digest/')) return 'digest';
  if (object.key === 'ConfigWritabilityCheckFile' || object.key.endsWith('/ConfigWritabilityCheckFile')) return 'check_file';
  if (!filePattern.test(object.key)) return 'pattern';
  if (sinceMs !== null && object.lastModified.getTime() < sinceMs) return 'before_start';
  return undefined;
}
