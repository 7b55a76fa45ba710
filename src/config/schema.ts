/**
 * The one source of truth for the configuration: types, defaults, validation and the text of
 * every field's docs come from here. Unknown keys are errors, so a typo never silently disables
 * a setting.
 */
import { z } from 'zod';
import cron from 'node-cron';
import { parseDuration } from '../util/duration.js';
import { keyPatternProblem } from '../util/key-pattern.js';
import { namedGroups, unknownPlaceholders } from '../poll/identifier.js';
import { TEMPLATE_FIELDS, unknownTemplateFields } from '../sinks/template.js';

const MINUTE_MS = 60_000;

/** No duration s3pull takes means more than a year; a longer one is a typo (`99999D`). */
const MAX_DURATION_MS = 366 * 86_400_000;

function duration(field: string, minimumMs: number) {
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

// Bucket names as S3 allows them today (lowercase, digits, dots and hyphens; 3 to 63 characters).
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)');

/**
 * JSA's Directory Prefix rule: `/` alone is the bucket root; otherwise the prefix must not begin
 * with `/`. Stored without the leading `/` so that S3 sees the real key prefix.
 */
const prefix = z
  .string()
  .default('/')
  .superRefine((value, ctx) => {
    if (value !== '/' && value.startsWith('/')) {
      ctx.addIssue({ code: 'custom', message: 'must not begin with "/" (use "/" alone for the bucket root, or folder1/folder2/)' });
    }
  })
  .transform((value) => (value === '/' ? '' : value));

/** Patterns over keys run on RE2 (linear time); one it refuses is named here, not at the first poll. */
const regex = z.string().superRefine((value, ctx) => {
  const problem = keyPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `is not a pattern s3pull can use: ${problem}` });
});

const accessKeyAuth = z.strictObject({
  type: z.literal('access_key'),
  access_key_id: z.string().min(1),
  secret_access_key: z.string().min(1),
  session_token: z.string().min(1).optional(),
});

const defaultChainAuth = z.strictObject({ type: z.literal('default') });

/** EC2 instance profile (IMDSv2 first) or, inside ECS, the task role. */
const instanceRoleAuth = z.strictObject({ type: z.literal('instance_role') });

const baseAuth = z.discriminatedUnion('type', [accessKeyAuth, instanceRoleAuth, defaultChainAuth]);

const assumeRoleAuth = z.strictObject({
  type: z.literal('assume_role'),
  role_arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be a role ARN such as arn:aws:iam::111122223333:role/s3pull-reader'),
  external_id: z.string().min(2).max(1224).optional(),
  session_name: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 letters, digits or +=,.@_-').default('s3pull'),
  duration: duration('duration', 15 * MINUTE_MS).default(3_600_000),
  /** STS endpoint (a VPC endpoint, or a local one in tests); the regional AWS endpoint by default. */
  sts_endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  /** The credentials that call sts:AssumeRole; the SDK chain by default. */
  base: baseAuth.default({ type: 'default' }),
});

export const authSchema = z.discriminatedUnion('type', [accessKeyAuth, instanceRoleAuth, assumeRoleAuth, defaultChainAuth]);

/** `beginning`, `now`, or `{ since: DATE }`; written by hand so that each mistake gets its own message. */
const startSchema = z.unknown().transform((value, ctx): 'beginning' | 'now' | { since: Date } => {
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

/** A proxy: HTTP or HTTPS, optional basic auth; hosts in `no_proxy` are reached directly. */
export const proxyServerSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// proxy URL such as http://proxy.corp.example:3128' }).refine(
    (value) => new URL(value).username === '' && new URL(value).password === '',
    'must not hold credentials; use username and password (password from ${env:} or ${file:})',
  ),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  no_proxy: z.array(z.string().min(1)).optional(),
});
/** A source may override the collector's default proxy, or bypass it with `none`. */
const proxySchema = z.union([z.literal('none'), proxyServerSchema], { error: 'must be none or { url, username, password, no_proxy }' });

export const FORMAT_NAMES = [
  'cloudtrail', 'vpcflow', 'lines', 'jsonlines', 'alb', 'elb', 's3access', 'w3c', 'networkfirewall', 'waf',
  'guardduty', 'config', 'route53resolver', 'csv', 'json',
] as const;

/** Formats that read the options below; any other format with them is a mistake worth naming. */
const FORMAT_OPTIONS: Record<string, readonly string[]> = {
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

const SQS_QUEUE_URL = /^https?:\/\/[^/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

/** JSA's "S3 Collection Method": by prefix (listing, the default) or by SQS event notifications. */
const prefixCollection = z.strictObject({ type: z.literal('prefix') });

const sqsCollection = z
  .strictObject({
    type: z.literal('sqs'),
    /** The queue S3 (or SNS, or EventBridge) sends notifications to; its region comes from the URL. */
    queue_url: z.string().regex(SQS_QUEUE_URL, 'must be a queue URL such as https://sqs.us-east-1.amazonaws.com/111122223333/s3pull-trail'),
    /** The queue's region, where the URL does not name one (a VPC endpoint, a local queue); the source's region by default. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1').optional(),
    /** SQS endpoint (a VPC endpoint, or a local one in tests); AWS's own for the region by default. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** Credentials for the queue, when they are not the bucket's (the source's auth by default). */
    auth: authSchema.optional(),
    /** Long poll: how long one receive waits for messages (0 to 20 s). */
    wait_time: duration('wait_time', 0).default(20_000),
    max_messages: z.number().int().min(1).max(10).default(10),
    /** How long a received message stays hidden from other consumers; extended at half of it while its objects are pulled. */
    visibility_timeout: duration('visibility_timeout', 10_000).default(300_000),
    /** Messages worked on at once (their objects share the source's concurrency). */
    workers: z.number().int().min(1).max(100).default(10),
    /** Only objects of these buckets are pulled; others are deleted from the queue and counted. */
    buckets: z.array(bucketName).min(1).optional(),
    /** Also list the prefix this often, with the marker and ledger, for objects no notification announced. */
    reconcile: duration('reconcile', MINUTE_MS).optional(),
    /** Messages s3pull cannot read are moved here (and deleted); without it they stay for the queue's redrive policy. */
    dead_letter_queue_url: z.string().regex(SQS_QUEUE_URL, 'must be a queue URL').optional(),
  })
  .superRefine((collection, ctx) => {
    if (collection.wait_time > 20_000) ctx.addIssue({ code: 'custom', path: ['wait_time'], message: 'must be at most 20s (the longest SQS long poll)' });
    if (collection.visibility_timeout > 43_200_000) ctx.addIssue({ code: 'custom', path: ['visibility_timeout'], message: 'must be at most 12h (the longest SQS visibility timeout)' });
    if (collection.wait_time % 1000 !== 0) ctx.addIssue({ code: 'custom', path: ['wait_time'], message: 'must be whole seconds' });
  });

const collectionSchema = z.discriminatedUnion('type', [prefixCollection, sqsCollection], { error: 'type must be prefix or sqs' });

export const sourceSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be letters, digits, ".", "_" or "-" (at most 128)'),
    enabled: z.boolean().default(true),
    collection: collectionSchema.default({ type: 'prefix' }),
    /** The bucket to list; for an SQS source, the buckets come from the messages (and this is the one reconcile lists). */
    bucket: bucketName.optional(),
    prefix,
    region: z.string().regex(/^([a-z]{2}(-[a-z]+)+-\d+|auto)$/, 'must be an AWS region such as us-east-1, or auto'),
    use_fips: z.boolean().default(false),
    use_dualstack: z.boolean().default(false),
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    path_style: z.boolean().default(false),
    signature_version: z.enum(['v4', 'v2']).default('v4'),
    auth: authSchema.default({ type: 'default' }),
    file_pattern: regex.default('.*'),
    format: z.enum(FORMAT_NAMES),
    recurrence: duration('recurrence', MINUTE_MS).optional(),
    schedule: z
      .string()
      .refine((value) => cron.validate(value), 'must be a cron expression such as "*/5 * * * *"')
      .optional(),
    eps_throttle: z.number().int().min(0, 'must be 0 (no limit) or more').default(5000),
    concurrency: z.number().int().min(1).max(64).default(4),
    late_window: duration('late_window', 0).default(3_600_000),
    listing: z.enum(['marker', 'full']).default('marker'),
    partition_discovery: duration('partition_discovery', MINUTE_MS).default(3_600_000),
    start: startSchema.default('beginning'),
    max_attempts: z.number().int().min(1).default(5),
    history_retention: duration('history_retention', MINUTE_MS).default(7 * 86_400_000),
    request_timeout: duration('request_timeout', 1000).default(60_000),
    proxy: proxySchema.optional(),
    identifier_pattern: regex
      .refine((value) => namedGroups(value).length > 0, 'must name at least one group, such as AWSLogs/(?<account>\\d{12})/CloudTrail/(?<region>[^/]+)/')
      .optional(),
    identifier: z.string().min(1).optional(),
    records_path: dottedPath.optional(),
    time_field: dottedPath.optional(),
    csv: csvOptionsSchema.optional(),
    dedup: dedupSchema.optional(),
  })
  .superRefine((source, ctx) => {
    for (const [option, formats] of Object.entries(FORMAT_OPTIONS)) {
      if ((source as Record<string, unknown>)[option] !== undefined && !formats.includes(source.format)) {
        ctx.addIssue({ code: 'custom', path: [option], message: `is for format ${formats.join(' or ')}, not ${source.format}` });
      }
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

const port = z.number().int().min(1).max(65535);
/** `{source}`, `{source_id}`, `{format}`, `{host}` (this host's name), `{date}` (the event's day). */
const template = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const unknown = unknownTemplateFields(value);
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `uses {${unknown.join('}, {')}}; a template may use ${TEMPLATE_FIELDS.map((name) => `{${name}}`).join(', ')}` });
  });
const filePath = z.string().min(1);

const SYSLOG_FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;
const SYSLOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/** What a network output sends of each event: the whole envelope, or the record as AWS wrote it. */
const messageContent = z.enum(['envelope', 'event']).default('envelope');

export const syslogOutputSchema = z
  .strictObject({
    type: z.literal('syslog'),
    host: z.string().min(1),
    /** 514 for udp and tcp, 6514 for tls (RFC 5425), 2514 for relp and relp_tls (rsyslog's usual). */
    port: port.optional(),
    /** relp and relp_tls: every message acknowledged by the receiver (rsyslog imrelp, syslog-ng). */
    transport: z.enum(['tcp', 'udp', 'tls', 'relp', 'relp_tls']).default('tcp'),
    protocol: z.enum(['rfc5424', 'rfc3164']).default('rfc5424'),
    /** Streams only: RFC 6587 octet counting, or a line feed after each message. */
    framing: z.enum(['octet_counting', 'lf']).default('octet_counting'),
    facility: z.enum(SYSLOG_FACILITIES).default('local0'),
    severity: z.enum(SYSLOG_SEVERITIES).default('info'),
    hostname: template.default('{source}'),
    app_name: template.default('s3pull'),
    message: messageContent,
    /** Longer UDP datagrams are cut to this and counted. */
    udp_max_bytes: z.number().int().min(480).max(65_507).default(8192),
    tls: z
      .strictObject({
        /** The name the receiver's certificate must carry, when it is not `host`. */
        server_name: z.string().min(1).optional(),
        /** A client certificate and key (PEM) for receivers that ask for one. */
        cert: filePath.optional(),
        key: filePath.optional(),
      })
      .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), 'set both cert and key, or neither')
      .optional(),
    connect_timeout: duration('connect_timeout', 1000).default(10_000),
    /** A batch not written (TCP, TLS) or not acknowledged (RELP) within this is sent again on a new connection. */
    send_timeout: duration('send_timeout', 1000).default(30_000),
    /** How long a batch is retried while the receiver is down before the poll gives up (marker kept). */
    retry_timeout: duration('retry_timeout', 1000).default(300_000),
  })
  .superRefine((output, ctx) => {
    if (output.tls !== undefined && output.transport !== 'tls' && output.transport !== 'relp_tls') ctx.addIssue({ code: 'custom', path: ['tls'], message: 'is for transport: tls or relp_tls' });
  });

const httpAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1) }),
  /** Splunk HEC: `Authorization: Splunk <token>`. */
  z.strictObject({ type: z.literal('splunk'), token: z.string().min(1) }),
  /** Elasticsearch API key: the base64 "encoded" value Elasticsearch returns for a new key. */
  z.strictObject({ type: z.literal('api_key'), token: z.string().min(1) }),
]);

export const httpOutputSchema = z
  .strictObject({
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL such as https://splunk.example.com:8088/services/collector/event' }),
    /** ndjson: the envelope lines; splunk_hec: HEC event JSON; elasticsearch: the _bulk API. */
    shape: z.enum(['ndjson', 'splunk_hec', 'elasticsearch']).default('ndjson'),
    auth: httpAuthSchema.optional(),
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'), z.string()).default({}),
    gzip: z.boolean().default(true),
    message: messageContent,
    /** Batches from a poll are split into requests of at most this many events / bytes (before gzip). */
    max_events: z.number().int().min(1).default(500),
    max_bytes: z.number().int().min(1024).default(4 * 1024 * 1024),
    timeout: duration('timeout', 1000).default(30_000),
    retry_timeout: duration('retry_timeout', 1000).default(300_000),
    /** The collector's proxy by default; `none` to reach the receiver directly. */
    proxy: z.union([z.literal('none'), proxyServerSchema], { error: 'must be none or { url, username, password, no_proxy }' }).optional(),
    splunk: z
      .strictObject({
        index: z.string().min(1).optional(),
        sourcetype: template.default('s3pull:{format}'),
        host: template.default('{source}'),
        /** With indexer acknowledgement on the token: how long to wait for "indexed" before sending again. */
        ack_timeout: duration('ack_timeout', 1000).default(120_000),
      })
      .default({ sourcetype: 's3pull:{format}', host: '{source}', ack_timeout: 120_000 }),
    elasticsearch: z
      .strictObject({
        /** Index or data stream; `{date}` is the event's day (YYYY.MM.DD). */
        index: template.default('s3pull-{format}'),
        pipeline: z.string().min(1).optional(),
      })
      .default({ index: 's3pull-{format}' }),
  })
  .superRefine((output, ctx) => {
    if (output.auth?.type === 'splunk' && output.shape !== 'splunk_hec') ctx.addIssue({ code: 'custom', path: ['auth', 'type'], message: 'splunk is for shape: splunk_hec' });
  });

const outputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('stdout') }),
  z.strictObject({ type: z.literal('file'), path: z.string().min(1) }),
  syslogOutputSchema,
  httpOutputSchema,
]);

export const collectorSchema = z.strictObject({
  state: z.string().min(1).default('/var/lib/s3pull/state.db'),
  proxy: proxyServerSchema.optional(),
  certs_dir: z.string().min(1).default('certs'),
  output: outputSchema.default({ type: 'stdout' }),
  /** After SIGTERM, how long polls may take to commit what was delivered before they are abandoned. */
  shutdown_timeout: duration('shutdown_timeout', 1000).default(25_000),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
      format: z.enum(['text', 'json']).default('text'),
    })
    .default({ level: 'info', format: 'text' }),
});

export type SourceConfig = z.output<typeof sourceSchema>;
export type CollectorConfig = z.output<typeof collectorSchema>;
export type OutputConfig = CollectorConfig['output'];
export type SyslogOutputConfig = z.output<typeof syslogOutputSchema>;
export type HttpOutputConfig = z.output<typeof httpOutputSchema>;
export type AuthConfig = SourceConfig['auth'];
export type CollectionConfig = SourceConfig['collection'];
export type SqsCollectionConfig = Extract<CollectionConfig, { type: 'sqs' }>;
export type StartConfig = SourceConfig['start'];
export type ProxyServerConfig = z.output<typeof proxyServerSchema>;
export type FormatName = (typeof FORMAT_NAMES)[number];
