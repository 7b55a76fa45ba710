/**
 * Every notable thing s3pull does, as one named event with fixed fields. `emit` writes the
 * event's one log line and updates its metrics, in one place, so that a log line and a counter
 * can never disagree (the habit of Vector's internal events). The metric families are declared
 * here and registered by metrics.ts, the only importer of the metrics library; until the
 * service installs a recorder (`metrics.listen` in s3pull.yaml), events only log.
 */
import type { Logger, LogLevel } from '../log/logger.js';

type Kind = 'counter' | 'gauge' | 'histogram';
export interface MetricFamily {
  kind: Kind;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/** The metric families the events update (process-local: they start at 0 with the process). */
export const EVENT_METRICS = {
  s3pull_objects_total: { kind: 'counter', help: 'Objects by outcome: done (delivered), failed (an attempt failed, tried again later), retry_later (not the object\'s fault), quarantined, gone, skipped.', labels: ['source', 'outcome'] },
  s3pull_objects_skipped_total: { kind: 'counter', help: 'Objects not pulled, by reason: pattern, empty, folder, digest, check_file, before_start (SQS also bucket, prefix).', labels: ['source', 'reason'] },
  s3pull_events_total: { kind: 'counter', help: 'Events delivered.', labels: ['source'] },
  s3pull_bad_lines_total: { kind: 'counter', help: 'Lines or records that could not be parsed, skipped and counted.', labels: ['source'] },
  s3pull_repeats_dropped_total: { kind: 'counter', help: 'Events dropped as repeats (dedup).', labels: ['source'] },
  s3pull_object_bytes_total: { kind: 'counter', help: 'Bytes of the delivered objects as stored in S3 (compressed).', labels: ['source'] },
  s3pull_object_decoded_bytes_total: { kind: 'counter', help: 'Bytes of the delivered objects after gunzip.', labels: ['source'] },
  s3pull_retries_total: { kind: 'counter', help: 'Downloads tried again at once after a throttle or a broken connection.', labels: ['source'] },
  s3pull_objects_recovered_total: { kind: 'counter', help: 'CloudTrail log files a digest listed after the marker had passed them, pulled by the digest check.', labels: ['source'] },
  s3pull_polls_total: { kind: 'counter', help: 'Polls (or queue drains) by status: ok, partial, failed, aborted, busy.', labels: ['source', 'status'] },
  s3pull_poll_duration_seconds: { kind: 'histogram', help: 'How long a poll took, listing and pulling.', labels: ['source'], buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600] },
  s3pull_last_successful_poll_timestamp_seconds: { kind: 'gauge', help: 'When a poll last ended ok or partial.', labels: ['source'] },
  s3pull_partitions_found_total: { kind: 'counter', help: 'Partitions (accounts, regions, days) found by the listing.', labels: ['source'] },
  s3pull_throttle_wait_seconds_total: { kind: 'counter', help: 'Time spent waiting for the eps_throttle.', labels: ['source'] },
  s3pull_aws_requests_total: { kind: 'counter', help: 'AWS requests, every attempt (as AWS bills them), by operation and outcome: ok, throttled, client_error, server_error, network.', labels: ['source', 'operation', 'outcome'] },
  s3pull_sqs_messages_total: { kind: 'counter', help: 'SQS messages by what became of them: received, deleted, returned, dead_lettered, not_understood.', labels: ['source', 'outcome'] },
  s3pull_sqs_visibility_extensions_total: { kind: 'counter', help: 'Visibility timeouts extended for messages whose objects were still being pulled.', labels: ['source'] },
  s3pull_sqs_receive_failures_total: { kind: 'counter', help: 'ReceiveMessage calls that failed.', labels: ['source'] },
  s3pull_output_batches_total: { kind: 'counter', help: 'Batches the output took.', labels: ['output'] },
  s3pull_output_events_total: { kind: 'counter', help: 'Events the output took.', labels: ['output'] },
  s3pull_output_bytes_total: { kind: 'counter', help: 'Bytes of the events the output took (their NDJSON lines).', labels: ['output'] },
  s3pull_output_delivery_seconds: { kind: 'histogram', help: 'How long the output took to take a batch, retries included.', labels: ['output'], buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120] },
  s3pull_output_retries_total: { kind: 'counter', help: 'Deliveries tried again because the receiver was unavailable.', labels: ['output'] },
  s3pull_output_up: { kind: 'gauge', help: '1 while the output takes events, 0 while its receiver is unavailable.', labels: ['output'] },
} as const satisfies Record<string, MetricFamily>;

export type MetricName = keyof typeof EVENT_METRICS;
type NamesOf<K extends Kind> = { [N in MetricName]: (typeof EVENT_METRICS)[N]['kind'] extends K ? N : never }[MetricName];
type Labels = Record<string, string>;

/** What events update metrics through; implemented by metrics.ts. */
export interface EventMetrics {
  inc(name: NamesOf<'counter'>, labels: Labels, by?: number): void;
  set(name: NamesOf<'gauge'>, labels: Labels, value: number): void;
  observe(name: NamesOf<'histogram'>, labels: Labels, value: number): void;
}

type Fields = Record<string, unknown>;
interface EventSpec<F extends Fields> {
  level: LogLevel | ((fields: F) => LogLevel);
  message: string | ((fields: F) => string);
  /** Fields kept out of the log line (a metric's input the line need not repeat). */
  quiet?: readonly (keyof F)[];
  record?(metrics: EventMetrics, fields: F, source: string): void;
}

/** Each event's fields; a log line carries them (with the logger's context, such as the source). */
export interface EventFields {
  // the object path
  object_done: { events: number; bad_lines: number; repeats: number; bytes: number; decoded_bytes: number };
  object_interrupted: { error: string };
  object_retry_later: { error: string };
  object_failed: { attempt: number; error: string };
  object_quarantined: { attempts: number; error: string };
  object_gone: Fields;
  objects_planned: { count: number };
  objects_skipped: { reason: string; count: number };
  object_rewritten: { key: string };
  bad_line: { line: number; reason: string };
  bad_lines_skipped: { count: number };
  repeats_dropped: { count: number };
  throttled: { waited_ms: number };
  // a poll
  scope_changed: { was: string; now: string };
  lease_taken_over: { holder: string };
  source_busy: { holder: string };
  key_unmatched: { key: string };
  partitions_found: { partitions: string[] };
  marker_reset_applied: { reset: string };
  poll_failed: { error: string };
  /** A poll that threw instead of ending (poll_finished never came): counted as a failed poll. */
  poll_broke_off: { source: string; error: string; crashed: boolean };
  output_failed: { error: string; code?: string; receiving?: boolean };
  state_unusable: { error: string; after_poll?: boolean; queue?: boolean };
  history_pruned: { rows: number };
  poll_finished: { status: string; objects: number; events: number; repeats_dropped?: number; failed: number; retrying: number; skipped: number; seconds: number };
  partition_silent: { source: string; partition: string; newest_object: string; silent_for: string; expected_within: string };
  partition_delivering: { source: string; partition: string };
  silence_not_checked: { source: string; error: string };
  // CloudTrail digests: security events, at their own severity
  digest_finding: { source: string; finding: string; digest: string; key?: string | undefined; detail: string };
  digests_verified: { source: string; digests: number; files_listed: number; files_delivered: number; problems: number };
  digests_checked: { digests: number; recovered: number; problems: number };
  digest_check_failed: { error: string };
  object_recovered: { key: string; digest: string };
  // backfill and replay jobs
  job_started: { job: number; kind: string; from: string; to: string; output: string; folders: number; resumed: boolean; folders_done: number };
  job_waiting: { job: number; holder: string };
  job_folder_done: { job: number; folder: string; objects: number; events: number; already_done: number };
  job_finished: { job: number; kind: string; status: string; objects: number; events: number; failed: number; already_done: number; left: number; seconds: number };
  // the output
  output_unavailable: { output: string; error: string };
  output_still_unavailable: { output: string; error: string; retry_in_ms: number };
  output_back: { output: string; down_for_s: number };
  output_delivered: { output: string; events: number; bytes: number; seconds: number };
  output_receiving_back: Fields;
  output_partial_line_removed: { path: string; bytes: number };
  syslog_udp_cut: { cut: number; cut_total: number; udp_max_bytes: number };
  syslog_connection_error: { error: string };
  // AWS
  aws_request: { operation: string; outcome: string };
  // SQS
  message_received: { message_id: string };
  message_deleted: { message_id: string; why: string };
  message_returned: { message_id: string; after_s: number };
  message_not_returned: { message_id: string; error: string };
  message_delete_failed: { message_id: string; why: string; error: string };
  message_ignored: { message_id: string; what: string };
  test_event: { message_id: string };
  message_dead_lettered: { message_id: string; reason: string; first_bytes: string; dead_letter_queue: string };
  message_dead_letter_refused: { message_id: string; error: string };
  message_not_understood: { message_id: string; reason: string; first_bytes: string };
  message_failed: { error: string };
  visibility_extended: { message_id: string; visibility_s: number };
  visibility_lost: { message_id: string; error: string };
  visibility_extension_failed: { message_id: string; error: string };
  queue_unreachable: { queue: string; error: string; retry_in_s: number };
  queue_reachable: { queue: string };
  queue_attributes_not_read: { error: string };
  queue_finished: { status: string; messages: number; deleted: number; objects: number; events: number; failed: number; skipped: number; seconds: number };
  // the service
  s3pull_started: { sources: number; output: string; state: string };
  config_warning: { warning: string };
  state_restored: { path: string };
  interrupted: Fields;
  source_scheduled: { source: string; schedule: string };
  source_receiving: { source: string; queue: string; reconcile_every_s?: number };
  receiving_paused: { source: string; error: string };
  parse_threads_failed: { error: string };
  requests_not_stored: { error: string };
  legacy_signature: { source: string };
  monitoring_listening: { address: string };
  monitoring_failed: { host: string; port: number; error: string };
  reload_restart_only: Fields;
  output_changed: { was: string; now: string };
  config_reloaded: { added: string; removed: string; changed: string };
  reload_refused: { error: string };
  stopping: { reason: string };
  output_close_failed: { error: string };
  s3pull_stopped: Fields;
  s3pull_stops: { reason: string };
  second_signal: { signal: string; in_flight: string };
  shutdown_overdue: { signal: string; grace_s: number; in_flight: string };
}
export type EventName = keyof EventFields;

/** A poll, or an SQS source's run, ended: counted alike, so that one alert covers both modes. */
function runEnded(metrics: EventMetrics, fields: { status: string; seconds: number }, source: string): void {
  metrics.inc('s3pull_polls_total', { source, status: fields.status });
  metrics.observe('s3pull_poll_duration_seconds', { source }, fields.seconds);
  if (fields.status === 'ok' || fields.status === 'partial') metrics.set('s3pull_last_successful_poll_timestamp_seconds', { source }, Date.now() / 1000);
}

const objectOutcome = (outcome: string) => (metrics: EventMetrics, _fields: Fields, source: string) => metrics.inc('s3pull_objects_total', { source, outcome });
const sqsMessage = (outcome: string) => (metrics: EventMetrics, _fields: Fields, source: string) => metrics.inc('s3pull_sqs_messages_total', { source, outcome });

export const EVENTS: { [N in EventName]: EventSpec<EventFields[N]> } = {
  object_done: {
    level: 'debug',
    message: 'object done',
    quiet: ['bytes', 'decoded_bytes'],
    record(metrics, fields, source) {
      metrics.inc('s3pull_objects_total', { source, outcome: 'done' });
      metrics.inc('s3pull_events_total', { source }, fields.events);
      metrics.inc('s3pull_bad_lines_total', { source }, fields.bad_lines);
      metrics.inc('s3pull_repeats_dropped_total', { source }, fields.repeats);
      metrics.inc('s3pull_object_bytes_total', { source }, fields.bytes);
      metrics.inc('s3pull_object_decoded_bytes_total', { source }, fields.decoded_bytes);
    },
  },
  object_interrupted: { level: 'debug', message: 'object download interrupted, trying again', record: (metrics, _f, source) => metrics.inc('s3pull_retries_total', { source }) },
  object_retry_later: { level: 'warn', message: 'object will be retried', record: objectOutcome('retry_later') },
  object_failed: { level: 'warn', message: 'object failed, will be retried', record: objectOutcome('failed') },
  object_quarantined: { level: 'error', message: 'object failed for good, quarantined', record: objectOutcome('quarantined') },
  object_gone: { level: 'warn', message: 'object gone before it was read', record: objectOutcome('gone') },
  objects_planned: { level: 'debug', message: 'objects to pull' },
  objects_skipped: {
    level: 'debug',
    message: 'objects skipped',
    record(metrics, fields, source) {
      metrics.inc('s3pull_objects_total', { source, outcome: 'skipped' }, fields.count);
      metrics.inc('s3pull_objects_skipped_total', { source, reason: fields.reason }, fields.count);
    },
  },
  object_rewritten: { level: 'info', message: 'object rewritten since it was announced; its newer version has a notification of its own' },
  bad_line: { level: 'warn', message: 'bad line skipped' },
  bad_lines_skipped: { level: 'warn', message: 'bad lines skipped' },
  repeats_dropped: { level: 'debug', message: 'repeated events dropped' },
  throttled: { level: 'debug', message: 'throttled', record: (metrics, fields, source) => metrics.inc('s3pull_throttle_wait_seconds_total', { source }, fields.waited_ms / 1000) },

  scope_changed: { level: 'warn', message: 'scope changed: marker cleared, everything under the new prefix is pulled' },
  lease_taken_over: { level: 'warn', message: 'taking over the lease of a poller that is gone' },
  source_busy: { level: 'warn', message: 'source busy, poll skipped', record: (metrics, _f, source) => metrics.inc('s3pull_polls_total', { source, status: 'busy' }) },
  key_unmatched: { level: 'warn', message: 'key does not match identifier_pattern; its events are named after the source id' },
  partitions_found: {
    level: 'info',
    message: 'new partitions found',
    record: (metrics, fields, source) => metrics.inc('s3pull_partitions_found_total', { source }, fields.partitions.length),
  },
  marker_reset_applied: { level: 'info', message: 'marker reset applied' },
  poll_failed: { level: 'error', message: 'poll failed' },
  poll_broke_off: {
    level: 'error',
    message: (fields) => (fields.crashed ? 'poll crashed' : 'poll failed'),
    quiet: ['crashed'],
    record: (metrics, _fields, source) => metrics.inc('s3pull_polls_total', { source, status: 'failed' }),
  },
  output_failed: {
    level: 'error',
    message: (fields) => (fields.receiving ? 'output failed: receiving paused, messages in flight kept and extended, nothing deleted' : 'output failed: source paused, marker kept'),
    quiet: ['receiving'],
  },
  state_unusable: {
    level: 'error',
    message: (fields) =>
      fields.after_poll
        ? 'state file unusable: the poll could not be recorded'
        : fields.queue
          ? 'state file unusable: source paused, no message deleted past the last delivered batch'
          : 'state file unusable: source paused, nothing committed past the last delivered batch',
    quiet: ['after_poll', 'queue'],
  },
  history_pruned: { level: 'debug', message: 'ledger history pruned' },
  poll_finished: {
    level: 'info',
    message: 'poll finished',
    record: runEnded,
  },
  partition_silent: { level: 'warn', message: 'partition silent: nothing new delivered for longer than expect_objects_within' },
  partition_delivering: { level: 'info', message: 'partition delivering again' },
  silence_not_checked: { level: 'debug', message: 'silence not checked' },
  digest_finding: { level: 'error', message: 'CloudTrail digest check failed' },
  digests_verified: { level: 'info', message: 'CloudTrail digests verified' },
  digests_checked: { level: 'info', message: 'CloudTrail digests checked' },
  digest_check_failed: { level: 'warn', message: 'CloudTrail digests not checked' },
  object_recovered: { level: 'warn', message: 'log file recovered: a digest listed it, the marker had passed it', record: (metrics, _f, source) => metrics.inc('s3pull_objects_recovered_total', { source }) },
  job_started: { level: 'info', message: (fields) => (fields.resumed ? `${fields.kind} job resumed` : `${fields.kind} job started`) },
  job_waiting: { level: 'info', message: 'waiting for the source: another poller holds it' },
  job_folder_done: { level: 'info', message: 'folder done' },
  job_finished: { level: (fields) => (fields.status === 'done' ? 'info' : 'warn'), message: (fields) => `${fields.kind} job ${fields.status === 'done' ? 'finished' : 'stopped'}` },

  output_unavailable: {
    level: 'warn',
    message: 'output receiver unavailable: sources pause and retry, nothing is lost',
    record(metrics, fields) {
      metrics.set('s3pull_output_up', { output: fields.output }, 0);
      metrics.inc('s3pull_output_retries_total', { output: fields.output });
    },
  },
  output_still_unavailable: { level: 'debug', message: 'output still unavailable', record: (metrics, fields) => metrics.inc('s3pull_output_retries_total', { output: fields.output }) },
  output_back: { level: 'info', message: 'output receiver is back; sources go on', record: (metrics, fields) => metrics.set('s3pull_output_up', { output: fields.output }, 1) },
  output_delivered: {
    level: 'debug',
    message: 'batch delivered',
    record(metrics, fields) {
      const output = { output: fields.output };
      metrics.inc('s3pull_output_batches_total', output);
      metrics.inc('s3pull_output_events_total', output, fields.events);
      metrics.inc('s3pull_output_bytes_total', output, fields.bytes);
      metrics.observe('s3pull_output_delivery_seconds', output, fields.seconds);
      metrics.set('s3pull_output_up', output, 1);
      // There from the first batch at 0, for rate() and alerts.
      metrics.inc('s3pull_output_retries_total', output, 0);
    },
  },
  output_receiving_back: { level: 'info', message: 'output back: receiving goes on' },
  output_partial_line_removed: { level: 'warn', message: 'output file ended in a partial line (a write was cut off); removed it, its events are delivered again' },
  syslog_udp_cut: { level: 'warn', message: 'syslog udp: messages longer than udp_max_bytes were cut (use tcp or tls for whole events)' },
  syslog_connection_error: { level: 'debug', message: 'syslog connection error' },

  aws_request: { level: 'debug', message: 'aws request', record: (metrics, fields, source) => metrics.inc('s3pull_aws_requests_total', { source, operation: fields.operation, outcome: fields.outcome }) },

  message_received: { level: 'debug', message: 'message received', record: sqsMessage('received') },
  message_deleted: { level: 'debug', message: 'message deleted', record: sqsMessage('deleted') },
  message_returned: { level: 'debug', message: 'message returned to the queue for a later try', record: sqsMessage('returned') },
  message_not_returned: { level: 'debug', message: 'could not return the message early; it comes back when its visibility runs out' },
  message_delete_failed: { level: 'warn', message: 'message could not be deleted; when it comes back its objects are found done' },
  message_ignored: { level: 'debug', message: 'message announces no created object; deleted' },
  test_event: { level: 'info', message: 'S3 test event received and deleted: the bucket notification reaches the queue' },
  message_dead_lettered: { level: 'warn', message: 'message not understood: moved to the dead-letter queue', record: sqsMessage('dead_lettered') },
  message_dead_letter_refused: { level: 'warn', message: 'message not understood, and the dead-letter queue refused it: left in the queue' },
  message_not_understood: { level: 'warn', message: 'message not understood: left in the queue for its redrive policy', record: sqsMessage('not_understood') },
  message_failed: { level: 'error', message: 'message handling failed' },
  visibility_extended: { level: 'debug', message: 'visibility extended', record: (metrics, _f, source) => metrics.inc('s3pull_sqs_visibility_extensions_total', { source }) },
  visibility_lost: { level: 'warn', message: 'visibility can no longer be extended: another consumer may receive the message and repeat its objects' },
  visibility_extension_failed: { level: 'debug', message: 'visibility extension failed; trying again at the next half' },
  queue_unreachable: { level: 'error', message: 'cannot receive from the queue; trying again', record: (metrics, _f, source) => metrics.inc('s3pull_sqs_receive_failures_total', { source }) },
  queue_reachable: { level: 'info', message: 'queue reachable again; receiving goes on' },
  queue_attributes_not_read: { level: 'debug', message: 'queue attributes not read' },
  queue_finished: {
    level: 'info',
    message: 'queue collection finished',
    record: runEnded,
  },

  s3pull_started: { level: 'info', message: 's3pull started' },
  config_warning: { level: 'warn', message: (fields) => fields.warning, quiet: ['warning'] },
  state_restored: { level: 'error', message: 'the state file was deleted while s3pull ran: written back from the open database, nothing lost; move it aside only while s3pull is stopped' },
  interrupted: { level: 'warn', message: 'interrupted: finishing the batches in flight, then stopping' },
  source_scheduled: { level: 'info', message: 'source scheduled' },
  source_receiving: { level: 'info', message: 'source receiving' },
  receiving_paused: { level: 'warn', message: 'receiving paused after a failure; starting again in 30 s' },
  parse_threads_failed: { level: 'warn', message: 'parse threads did not start; objects are tried again at the next poll' },
  requests_not_stored: { level: 'warn', message: 'the AWS request counts could not be stored' },
  legacy_signature: { level: 'warn', message: 'signature_version v2 is a legacy signature for old S3-compatible stores; AWS regions opened since 2014 accept only v4' },
  monitoring_listening: { level: 'info', message: 'monitoring endpoint listening: /metrics, /health, /ready' },
  monitoring_failed: {
    level: 'error',
    message: (fields) => `the monitoring endpoint cannot listen on ${fields.host}:${fields.port} (${fields.error}); s3pull goes on without it`,
    quiet: ['host', 'port', 'error'],
  },
  reload_restart_only: { level: 'warn', message: 'changes to state, log or metrics in s3pull.yaml take effect at the next restart; sources and output are reloaded now' },
  output_changed: { level: 'info', message: 'output changed' },
  config_reloaded: { level: 'info', message: 'configuration reloaded' },
  reload_refused: { level: 'error', message: 'reload refused, the running configuration stays' },
  stopping: { level: 'info', message: 'stopping: work in flight commits its delivered batches' },
  output_close_failed: { level: 'warn', message: 'output did not close cleanly' },
  s3pull_stopped: { level: 'info', message: 's3pull stopped' },
  s3pull_stops: { level: 'error', message: 's3pull stops' },
  second_signal: { level: 'error', message: 'second signal: exiting now; nothing past the last delivered batch was committed' },
  shutdown_overdue: {
    level: 'error',
    message: (fields) => `shutdown did not finish within ${fields.grace_s} s: abandoned what is in flight; the marker stays where delivery stopped`,
    quiet: ['grace_s'],
  },
};

let recorder: EventMetrics | undefined;
const listeners = new Set<EventListener>();

export type EventListener = <N extends EventName>(name: N, fields: EventFields[N]) => void;

/** Calls `listener` with every event from now on (`once`'s progress bar); returns the unsubscribe. */
export function onEvent(listener: EventListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Where events count from now on (the service's metrics); undefined: they only log. */
export function recordEventsInto(metrics: EventMetrics | undefined): void {
  recorder = metrics;
}

/** The event's one log line, and its metrics. */
export function emit<N extends EventName>(log: Logger, name: N, eventFields: EventFields[N]): void {
  const spec = EVENTS[name] as unknown as EventSpec<Fields>;
  const fields = eventFields as Fields;
  const level = typeof spec.level === 'function' ? spec.level(fields) : spec.level;
  if (log.enabled?.(level) ?? true) {
    const message = typeof spec.message === 'function' ? spec.message(fields) : spec.message;
    const line: Fields = {};
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value !== undefined && !spec.quiet?.includes(key)) line[key] = Array.isArray(value) ? value.join(',') : value;
    }
    line['event'] = name;
    log[level](message, line);
  }
  for (const listener of listeners) listener(name, eventFields);
  if (recorder && spec.record) {
    const source = String(fields['source'] ?? log.context['source'] ?? '-');
    spec.record(recorder, fields, source);
  }
}
