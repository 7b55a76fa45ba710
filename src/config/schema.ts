/**
 * The one source of truth for the configuration, composed from the option schemas each role
 * owns (aws/, net/, poll/, queue/, pipeline/, formats/, sinks/): types, defaults, validation and
 * the text of every field's docs come from those. Unknown keys are errors, so a typo never
 * silently disables a setting. Nothing below config/ imports this file.
 */
import { z } from 'zod';
import { bucketName, duration } from '../util/schema-parts.js';
import { namedGroups, unknownPlaceholders } from '../poll/identifier.js';
import { s3ConnectionShape } from '../aws/options.js';
import { proxySchema, proxyServerSchema } from '../net/options.js';
import { pollShape, prefixCollectionSchema } from '../poll/options.js';
import { sqsCollectionSchema } from '../queue/options.js';
import { pipelineShape } from '../pipeline/options.js';
import { FORMAT_OPTIONS, formatShape } from '../formats/options.js';
import { outputSchema } from '../sinks/options.js';

export { FORMAT_NAMES, type FormatName } from '../formats/options.js';
export { authSchema, type AuthConfig } from '../aws/options.js';
export { proxyServerSchema, type ProxyServerConfig } from '../net/options.js';
export { syslogOutputSchema, httpOutputSchema, type OutputConfig, type SyslogOutputConfig, type HttpOutputConfig } from '../sinks/options.js';
export type { SqsCollectionConfig } from '../queue/options.js';
export type { StartConfig } from '../poll/options.js';

/** JSA's "S3 Collection Method": by prefix (listing, the default) or by SQS event notifications. */
const collectionSchema = z.discriminatedUnion('type', [prefixCollectionSchema, sqsCollectionSchema], { error: 'type must be prefix or sqs' });

export const sourceSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be letters, digits, ".", "_" or "-" (at most 128)'),
    enabled: z.boolean().default(true),
    collection: collectionSchema.default({ type: 'prefix' }),
    /** The bucket to list; for an SQS source, the buckets come from the messages (and this is the one reconcile lists). */
    bucket: bucketName.optional(),
    ...s3ConnectionShape,
    proxy: proxySchema.optional(),
    ...pollShape,
    ...formatShape,
    ...pipelineShape,
  })
  .superRefine((source, ctx) => {
    for (const [option, formats] of Object.entries(FORMAT_OPTIONS)) {
      if ((source as Record<string, unknown>)[option] !== undefined && !formats.includes(source.format)) {
        ctx.addIssue({ code: 'custom', path: [option], message: `is for format ${formats.join(' or ')}, not ${source.format}` });
      }
    }
    if (source.format === 'cloudfront_realtime' && source.cloudfront_realtime === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cloudfront_realtime'], message: 'format cloudfront_realtime needs cloudfront_realtime.fields: the real-time log configuration\'s fields, in its order (its files have no header)' });
    }
    if (source.identifier !== undefined) {
      if (source.identifier_pattern === undefined) {
        ctx.addIssue({ code: 'custom', path: ['identifier'], message: 'needs identifier_pattern, whose named groups it uses' });
      } else {
        const unknown = unknownPlaceholders(source.identifier, namedGroups(source.identifier_pattern));
        if (unknown.length > 0) {
          ctx.addIssue({ code: 'custom', path: ['identifier'], message: `uses {${unknown.join('}, {')}}, which identifier_pattern does not name (it names ${namedGroups(source.identifier_pattern).map((name) => `{${name}}`).join(', ')} and there is {id})` });
        }
      }
    }
    if (source.bucket === undefined && (source.collection.type === 'prefix' || source.collection.reconcile !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: source.collection.type === 'prefix' ? 'is required (the bucket to list)' : 'is required for collection.reconcile (the bucket to list)' });
    }
    if (source.bucket === undefined && source.collection.type === 'sqs' && source.cloudtrail?.digests === 'verify') {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: "is required for cloudtrail.digests: verify (the bucket whose CloudTrail-Digest/ folders are read)" });
    }
    if (source.recurrence !== undefined && source.schedule !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'set either recurrence or schedule, not both' });
    }
  })
  .transform((source) => ({
    ...source,
    // Checked above: only an SQS source without reconcile has no bucket of its own.
    bucket: source.bucket ?? '',
    csv: source.format === 'csv' ? (source.csv ?? { delimiter: ',' }) : source.csv,
    // JSA's recurrence has no default; five minutes is InsightIDR's usual refresh rate.
    recurrence: source.schedule === undefined ? (source.recurrence ?? 300_000) : undefined,
  }));

export const collectorSchema = z.strictObject({
  state: z.string().min(1).default('/var/lib/s3pull/state.db'),
  proxy: proxyServerSchema.optional(),
  certs_dir: z.string().min(1).default('certs'),
  output: outputSchema.default({ type: 'stdout' }),
  /** Further outputs, by name, for `s3pull backfill --again --output NAME` (a replay to a second SIEM); `run` does not use them. */
  outputs: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'output names are letters, digits, _ and -'), outputSchema).default({}),
  /** After SIGTERM, how long polls may take to commit what was delivered before they are abandoned. */
  shutdown_timeout: duration('shutdown_timeout', 1000).default(25_000),
  /** Threads that decode and parse objects beside the main thread; `auto`: one per core on a machine with more than one. */
  parse_threads: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
  /** The monitoring endpoint (/metrics, /health, /ready); off unless set. */
  metrics: z
    .strictObject({
      listen: z.string().transform((value, ctx) => {
        const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
        const port = match ? Number(match[3]) : NaN;
        if (!match || port > 65535) {
          ctx.addIssue({ code: 'custom', message: 'must be HOST:PORT, such as 127.0.0.1:9478 or [::1]:9478' });
          return z.NEVER;
        }
        return { host: match[1] ?? match[2]!, port };
      }),
    })
    .optional(),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
      format: z.enum(['text', 'json']).default('text'),
    })
    .default({ level: 'info', format: 'text' }),
});

export type SourceConfig = z.output<typeof sourceSchema>;
export type CollectorConfig = z.output<typeof collectorSchema>;
export type CollectionConfig = SourceConfig['collection'];
