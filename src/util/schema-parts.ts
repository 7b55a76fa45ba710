/**
 * Pieces every role's option schema is made of: durations with units, bucket names, key
 * patterns. Each role owns its own options; config/schema.ts composes them.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { keyPatternProblem } from './key-pattern.js';

export const MINUTE_MS = 60_000;

/** No duration s3pull takes means more than a year; a longer one is a typo (`99999D`). */
const MAX_DURATION_MS = 366 * 86_400_000;

export function duration(field: string, minimumMs: number) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = parseDuration(String(value));
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${field} must be a number and a unit s, m, h or d, such as 15M, 2H or 1D` });
      return z.NEVER;
    }
    if (ms < minimumMs) {
      ctx.addIssue({ code: 'custom', message: `${field} must be at least ${minimumMs / 1000}s` });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `${field} must be at most 366d` });
      return z.NEVER;
    }
    return ms;
  });
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A size in bytes: a number, or a number and a unit (`512KiB`, `8MiB`, `16MB`). */
export function byteSize(field: string, minimum: number, maximum: number) {
  const show = (bytes: number) => (bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2}MiB` : `${bytes / 1024}KiB`);
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(value));
    const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
    if (!match || unit === undefined) {
      ctx.addIssue({ code: 'custom', message: `${field} must be a number of bytes, or a number and a unit KiB, MiB or GiB, such as 8MiB` });
      return z.NEVER;
    }
    const bytes = Math.round(Number(match[1]) * unit);
    if (bytes < minimum || bytes > maximum) {
      ctx.addIssue({ code: 'custom', message: `${field} must be between ${show(minimum)} and ${show(maximum)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

// Bucket names as S3 allows them today (lowercase, digits, dots and hyphens; 3 to 63 characters).
export const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)');

/** Patterns over keys run on RE2 (linear time); one it refuses is named here, not at the first poll. */
export const keyPattern = z.string().superRefine((value, ctx) => {
  const problem = keyPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `is not a pattern s3pull can use: ${problem}` });
});

