/** The options of the formats role: which format a source reads, and the options of some formats. */
import { z } from 'zod';
import { MINUTE_MS, byteSize, duration } from '../util/schema-parts.js';

export const FORMAT_NAMES = [
  'cloudtrail', 'vpcflow', 'lines', 'jsonlines', 'alb', 'alb_connection', 'nlb', 'elb', 's3access', 'w3c', 'networkfirewall', 'waf',
  'guardduty', 'config', 'route53resolver', 'csv', 'json',
] as const;

/** Formats that read the options below; any other format with them is a mistake worth naming. */
export const FORMAT_OPTIONS: Record<string, readonly string[]> = {
  records_path: ['json'],
  time_field: ['json', 'csv', 'jsonlines'],
  csv: ['csv'],
  dedup: ['cloudtrail'],
};

const dottedPath = z.string().regex(/^([^.]+(\.[^.]+)*)?$/, 'must be property names joined by ".", such as data.items');

const csvOptionsSchema = z
  .strictObject({
    columns: z.array(z.string().min(1)).min(1).optional(),
    header: z.boolean().optional(),
    delimiter: z.string().length(1, 'must be one character, such as "," or ";" or "\\t"').default(','),
  })
  .refine((csv) => csv.columns !== undefined || csv.header !== false, { message: 'header: false needs columns (the files have no line naming them)', path: ['header'] });

/** `true` (24 h window) or `{ window: 2D }`. */
const dedupSchema = z.union([
  z.boolean().transform((on) => (on ? { window: 86_400_000 } : undefined)),
  z.strictObject({ window: duration('window', MINUTE_MS).default(86_400_000) }),
]);

export const formatShape = {
  format: z.enum(FORMAT_NAMES),
  records_path: dottedPath.optional(),
  time_field: dottedPath.optional(),
  csv: csvOptionsSchema.optional(),
  dedup: dedupSchema.optional(),
  /**
   * A longer line or record is skipped and counted as bad, its bytes dropped as they stream by, so
   * that one huge record cannot take the collector's memory.
   */
  max_record_bytes: byteSize('max_record_bytes', 1024, 256 * 1024 ** 2).default(8 * 1024 ** 2),
};

export type FormatName = (typeof FORMAT_NAMES)[number];
export type FormatOptions = z.output<z.ZodObject<typeof formatShape>>;
