/**
 * Making folders without `recursive: true`: on Node 20, `mkdir(…, { recursive: true })` under
 * /proc (or another pseudo file system that answers ENOENT for a folder it will never hold)
 * loops forever at 100 % CPU instead of failing. Each missing level is made on its own here, so
 * every failure is an ordinary error that names the folder.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

export function ensureDirSync(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const found = kindOf(at);
    if (found === 'dir') break;
    if (found === 'other') throw Object.assign(new Error(`${at} exists and is not a folder`), { code: 'ENOTDIR', path: at });
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, mode === undefined ? undefined : { mode });
    } catch (error) {
      // Another process may have made it meanwhile; anything else is the answer.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || kindOf(folder) !== 'dir') throw error;
    }
  }
}

function kindOf(at: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(at).isDirectory() ? 'dir' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    throw error;
  }
}

/**
 * Reads a file of at most `maxBytes`, whatever it is (a FIFO or /dev/zero never ends, a huge
 * file would take the memory): a larger one throws an error with code EFBIG, a folder EISDIR.
 */
export function readFileCapped(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) throw Object.assign(new Error(`${file} is larger than ${formatBytes(maxBytes)}`), { code: 'EFBIG' });
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}
