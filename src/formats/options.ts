/** The options of the formats role: which format a source reads, and the options of some formats. */
import { z } from 'zod';
import { MINUTE_MS, byteSize, duration } from '../util/schema-parts.js';

export const FORMAT_NAMES = [
  'cloudtrail', 'vpcflow', 'lines', 'jsonlines', 'alb', 'alb_connection', 'nlb', 'elb', 's3access', 'w3c', 'networkfirewall', 'waf',
  'guardduty', 'config', 'route53resolver', 'csv', 'json', 'cloudfront_realtime',
] as const;

/** Formats that read the options below; any other format with them is a mistake worth naming. */
export const FORMAT_OPTIONS: Record<string, readonly string[]> = {
  records_path: ['json'],
  time_field: ['json', 'csv', 'jsonlines'],
  csv: ['csv'],
  vpcflow: ['vpcflow'],
  cloudfront_realtime: ['cloudfront_realtime'],
  dedup: ['cloudtrail'],
  cloudtrail: ['cloudtrail'],
};

const dottedPath = z.string().regex(/^([^.]+(\.[^.]+)*)?$/, 'must be property names joined by ".", such as data.items');

const csvOptionsSchema = z
  .strictObject({
    columns: z.array(z.string().min(1)).min(1).optional(),
    header: z.boolean().optional(),
    delimiter: z.string().length(1, 'must be one character, such as "," or ";" or "\\t"').default(','),
  })
  .refine((csv) => csv.columns !== undefined || csv.header !== false, { message: 'header: false needs columns (the files have no line naming them)', path: ['header'] });

const FLOW_FIELD = /^[a-z][a-z0-9-]*$/;

/**
 * The flow log's format as AWS shows it (`${version} ${vpc-id} …`), or a list of its field
 * names: with it, files need no header line (records that came through CloudWatch Logs,
 * Firehose or an export have none).
 */
const flowFieldsSchema = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((given, ctx) => {
    const names = (Array.isArray(given) ? given : given.split(/[\s,]+/))
      .map((name) => name.trim().replace(/^\$\{(.*)\}$/, '$1'))
      .filter((name) => name !== '');
    const wrong = names.find((name) => !FLOW_FIELD.test(name));
    if (names.length === 0 || wrong !== undefined) {
      ctx.addIssue({ code: 'custom', message: wrong === undefined ? 'names no field' : `"${wrong}" is not a flow log field name (such as \${srcaddr} or srcaddr)` });
      return z.NEVER;
    }
    return names;
  });

const vpcflowOptionsSchema = z.strictObject({ fields: flowFieldsSchema.optional() });

const REALTIME_FIELD = /^[a-z][a-z0-9-]*(\(ms\))?$/;

/**
 * The real-time log configuration's fields, in its order (`aws cloudfront get-realtime-log-config`
 * lists them), as a list or one string: the files have no header naming them.
 */
const realtimeFieldsSchema = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((given, ctx) => {
    const names = (Array.isArray(given) ? given : given.split(/[\s,]+/)).map((name) => name.trim()).filter((name) => name !== '');
    const wrong = names.find((name) => !REALTIME_FIELD.test(name));
    if (names.length === 0 || wrong !== undefined) {
      ctx.addIssue({ code: 'custom', message: wrong === undefined ? 'names no field' : `"${wrong}" is not a CloudFront real-time log field name (such as c-ip or timestamp)` });
      return z.NEVER;
    }
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) {
      ctx.addIssue({ code: 'custom', message: `names ${repeated} twice` });
      return z.NEVER;
    }
    return names;
  });

const realtimeOptionsSchema = z.strictObject({ fields: realtimeFieldsSchema });

/**
 * `cloudtrail.digests: verify`: each log file's SHA-256 is kept as it streams, and `s3pull verify`
 * checks the trail's digest files against what was delivered. CloudTrail's public keys come from
 * `cloudtrail:ListPublicKeys` (at `endpoint`, where it is not the region's own), or, for hosts
 * without that permission, from `public_key_file` (PEM, or the base64 `aws cloudtrail
 * list-public-keys` prints), relative to the configuration directory.
 */
const cloudtrailOptionsSchema = z.strictObject({
  digests: z.enum(['verify', 'off']).default('off'),
  public_key_file: z.string().min(1).optional(),
  endpoint: z.url({ error: 'must be a URL such as https://vpce-0123-abcd.cloudtrail.us-east-1.vpce.amazonaws.com' }).optional(),
});

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
  vpcflow: vpcflowOptionsSchema.optional(),
  cloudfront_realtime: realtimeOptionsSchema.optional(),
  /**
   * `cloudwatch_logs`: the objects hold what a CloudWatch Logs subscription sent to Firehose; each
   * log event's message is read by the format.
   */
  envelope: z.enum(['cloudwatch_logs']).optional(),
  dedup: dedupSchema.optional(),
  cloudtrail: cloudtrailOptionsSchema.optional(),
  /**
   * A longer line or record is skipped and counted as bad, its bytes dropped as they stream by, so
   * that one huge record cannot take the collector's memory.
   */
  max_record_bytes: byteSize('max_record_bytes', 1024, 256 * 1024 ** 2).default(8 * 1024 ** 2),
};

export type FormatName = (typeof FORMAT_NAMES)[number];
export type FormatOptions = z.output<z.ZodObject<typeof formatShape>>;
