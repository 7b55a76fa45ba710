/**
 * Resolves `${env:NAME}` and `${file:PATH}` inside string values, so that no secret needs to be
 * written in a config file. Errors carry the field path; the caller adds the file name.
 */
import path from 'node:path';
import { formatBytes, readFileCapped } from '../util/fs.js';

/** A `${file:}` holds one value (a key, a password); a larger file is a wrong path. */
const MAX_REFERENCED_FILE_BYTES = 64 * 1024;

export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

export function interpolate(
  value: unknown,
  options: { env: NodeJS.ProcessEnv; baseDir: string },
  problems: InterpolationProblem[],
  at: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, options, problems, at);
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, options, problems, [...at, index]));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, options, problems, [...at, key])]),
    );
  }
  return value;
}

function interpolateString(
  text: string,
  options: { env: NodeJS.ProcessEnv; baseDir: string },
  problems: InterpolationProblem[],
  at: (string | number)[],
): string {
  return text.replace(REFERENCE, (whole, kind: string, name: string) => {
    if (kind === 'env') {
      const found = options.env[name];
      if (found === undefined) {
        problems.push({ path: at, message: `environment variable ${name} is not set (referenced as ${whole})` });
        return '';
      }
      return found;
    }
    const file = path.resolve(options.baseDir, name);
    try {
      // A trailing newline is how editors and `echo` end a secret file; it is never part of it.
      return readFileCapped(file, MAX_REFERENCED_FILE_BYTES).toString('utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'EFBIG' ? `larger than ${formatBytes(MAX_REFERENCED_FILE_BYTES)}; it should hold one value` : (code ?? (error as Error).message);
      problems.push({ path: at, message: `cannot read ${file} (${reason}), referenced as ${whole}` });
      return '';
    }
  });
}
