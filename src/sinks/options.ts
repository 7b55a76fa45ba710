/** The options of the outputs role (`output:` in s3pull.yaml). */
import { z } from 'zod';
import { duration } from '../util/schema-parts.js';
import { proxyServerSchema } from '../net/options.js';
import { TEMPLATE_FIELDS, unknownTemplateFields } from './template.js';

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

export const outputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('stdout') }),
  z.strictObject({ type: z.literal('file'), path: z.string().min(1) }),
  syslogOutputSchema,
  httpOutputSchema,
]);

export type OutputConfig = z.output<typeof outputSchema>;
export type SyslogOutputConfig = z.output<typeof syslogOutputSchema>;
export type HttpOutputConfig = z.output<typeof httpOutputSchema>;
