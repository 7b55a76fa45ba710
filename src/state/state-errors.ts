/**
 * What a failing SQLite call means for the operator: every error from the state file names the
 * file and what to do, instead of SQLite's bare code (or a TypeError further down).
 */
import { S3PullError, StateError, type StateErrorCode } from '../util/errors.js';

export { StateError };

const ADVICE: [RegExp, StateErrorCode, string][] = [
  [/^SQLITE_FULL/, 'STATE_DISK_FULL', 'the disk that holds it is full; free space there (nothing was lost: the next poll goes on from the last commit)'],
  [/^SQLITE_READONLY/, 'STATE_READ_ONLY', 'it cannot be written (read-only file, folder or mount); give the s3pull user write access to the file and its folder'],
  [/^SQLITE_NOTADB/, 'STATE_NOT_SQLITE', 'it is not an SQLite database; restore it from a backup, or move it aside to start afresh (everything is then pulled again)'],
  [/^SQLITE_CORRUPT/, 'STATE_CORRUPT', 'it is damaged; restore it from a backup, or move it aside to start afresh (everything is then pulled again)'],
  [/^SQLITE_CANTOPEN/, 'STATE_CANNOT_OPEN', 'it cannot be opened; check that its folder exists and the s3pull user may write there'],
  [/^SQLITE_BUSY|^SQLITE_LOCKED/, 'STATE_BUSY', 'another process has held it locked for more than 10 s'],
  [/^SQLITE_IOERR/, 'STATE_IO', 'the disk reported an I/O error; check the disk and its free space'],
  [/^SQLITE_PERM|^SQLITE_AUTH/, 'STATE_PERMISSION', 'access was refused; check the permissions of the file and its folder'],
];

const FS_ADVICE: Record<string, string> = {
  EACCES: 'access was refused; give the s3pull user write access to the folder',
  EPERM: 'access was refused; give the s3pull user write access to the folder',
  EROFS: 'its folder is on a read-only file system; set state to a writable path',
  ENOSPC: 'the disk that holds it is full; free space there',
  ENOTDIR: 'a part of its path is a file, not a folder',
  ENOENT: 'its folder cannot be made here; set state to a path in an existing folder',
  EISDIR: 'it is a folder; set state to a file path such as /var/lib/s3pull/state.db',
};

export function stateError(file: string, error: unknown): unknown {
  if (error instanceof S3PullError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const detail = (error as Error)?.message ?? String(error);
  for (const [pattern, ownCode, advice] of ADVICE) {
    if (pattern.test(code)) return new StateError(ownCode, `state file ${file}: ${advice} (${code}: ${detail})`, { cause: error });
  }
  const advice = FS_ADVICE[code];
  if (advice) return new StateError('STATE_UNUSABLE', `state file ${file}: ${advice} (${detail})`, { cause: error });
  if (/^SQLITE_/.test(code)) return new StateError('STATE_ERROR', `state file ${file}: ${code}: ${detail}`, { cause: error });
  return error;
}
