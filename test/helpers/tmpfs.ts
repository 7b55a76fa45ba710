/** A real, small tmpfs, for disk-full and read-only cases; needs root (CI and these machines run as root). */
import { execFileSync } from 'node:child_process';
import { tempDir } from './source.js';

export interface Tmpfs {
  dir: string;
  /** Remounts it read-only, or writable again. */
  remount(mode: 'ro' | 'rw'): void;
  unmount(): void;
}

export function mountTmpfs(sizeKb: number, mode: 'ro' | 'rw' = 'rw'): Tmpfs {
  const dir = tempDir('s3pull-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,${mode}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(`these tests mount a small tmpfs and need root (mount -t tmpfs failed: ${(error as { stderr?: Buffer }).stderr?.toString().trim() ?? (error as Error).message})`);
  }
  return {
    dir,
    remount: (next) => execFileSync('mount', ['-o', `remount,${next}`, dir], { stdio: 'pipe' }),
    unmount: () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' }),
  };
}
