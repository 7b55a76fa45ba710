/** The options of collection by prefix (the poll), and the key rules both modes apply. */
import { z } from 'zod';
import cron from 'node-cron';
import { MINUTE_MS, duration, keyPattern } from '../util/schema-parts.js';
import { namedGroups } from './identifier.js';
import type { FormatOptions } from '../formats/options.js';
import type { PipelineOptions } from '../pipeline/options.js';

/**
 * JSA's Directory Prefix rule: `/` alone is the bucket root; otherwise the prefix must not begin
 * with `/`. Stored without the leading `/` so that S3 sees the real key prefix.
 */
export const prefixSchema = z
  .string()
  .default('/')
  .superRefine((value, ctx) => {
    if (value !== '/' && value.startsWith('/')) {
      ctx.addIssue({ code: 'custom', message: 'must not begin with "/" (use "/" alone for the bucket root, or folder1/folder2/)' });
    }
  })
  .transform((value) => (value === '/' ? '' : value));

/** `beginning`, `now`, or `{ since: DATE }`; written by hand so that each mistake gets its own message. */
export const startSchema = z.unknown().transform((value, ctx): 'beginning' | 'now' | { since: Date } => {
  if (value === 'beginning' || value === 'now') return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const unknown = keys.filter((key) => key !== 'since');
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', message: `unknown field ${unknown.join(', ')} (start takes only since)` });
      return z.NEVER;
    }
    const since = (value as { since?: unknown }).since;
    const date = since instanceof Date ? since : typeof since === 'string' ? new Date(since) : undefined;
    if (!date || Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', path: ['since'], message: 'must be a date such as 2026-11-01 or 2026-11-01T12:00:00Z' });
      return z.NEVER;
    }
    return { since: date };
  }
  ctx.addIssue({ code: 'custom', message: 'must be beginning, now, or { since: DATE }' });
  return z.NEVER;
});

/** JSA's "S3 Collection Method: Use a Specific Prefix": the default. */
export const prefixCollectionSchema = z.strictObject({ type: z.literal('prefix') });

export const pollShape = {
  prefix: prefixSchema,
  file_pattern: keyPattern.default('.*'),
  recurrence: duration('recurrence', MINUTE_MS).optional(),
  schedule: z
    .string()
    .refine((value) => cron.validate(value), 'must be a cron expression such as "*/5 * * * *"')
    .optional(),
  late_window: duration('late_window', 0).default(3_600_000),
  /** A partition that delivers nothing newer for this long is reported as silent (log, `sources`). */
  expect_objects_within: duration('expect_objects_within', MINUTE_MS).optional(),
  listing: z.enum(['marker', 'full']).default('marker'),
  partition_discovery: duration('partition_discovery', MINUTE_MS).default(3_600_000),
  start: startSchema.default('beginning'),
  history_retention: duration('history_retention', MINUTE_MS).default(7 * 86_400_000),
  identifier_pattern: keyPattern
    .refine((value) => namedGroups(value).length > 0, 'must name at least one group, such as AWSLogs/(?<account>\\d{12})/CloudTrail/(?<region>[^/]+)/')
    .optional(),
  identifier: z.string().min(1).optional(),
};

export type StartConfig = z.output<typeof startSchema>;

export type PollOptions = z.output<z.ZodObject<typeof pollShape>>;

/** What collecting a source reads of its config, in either mode (structural: config's LoadedSource fits). */
export type CollectedSource = PollOptions &
  FormatOptions &
  PipelineOptions & {
    id: string;
    /** The bucket to list; '' for an SQS source without one. */
    bucket: string;
    endpoint?: string | undefined;
    collection: { type: 'prefix' } | ({ type: 'sqs'; queue_url: string } & Record<string, unknown>);
  };
