/**
 * The only importer of prom-client: s3pull's metrics in the Prometheus text format. Two kinds:
 * what happens (counters and histograms of objects, events, requests, batches…) is counted by
 * the telemetry events as it happens (telemetry/events.ts declares those families); what is
 * (quarantined objects, lag, silence, queue depth, readiness) is read from the state file at
 * each scrape, so that it agrees with `s3pull sources`. Label values are bounded: source ids,
 * partition prefixes, operations, outcomes, the output, never a key.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../state/types.js';
import { silentPartitions } from '../poll/silence.js';
import { readinessOf, type ReadinessSource } from './readiness.js';
import { EVENT_METRICS, type EventMetrics, type MetricName } from './events.js';

export interface MetricsSources {
  /** The sources of the running configuration. */
  sources(): ReadinessSource[];
  store: Store;
  now(): number;
  nextRunMs(sourceId: string): number | null;
}

export interface Metrics {
  text(): Promise<string>;
  readonly contentType: string;
  /** Where the telemetry events count (install it with recordEventsInto). */
  readonly events: EventMetrics;
  /** Outputs whose receiver is unavailable now, for /ready. */
  outputsDown(): string[];
}

/** The event families, registered on `registry`, behind the events' one-method-per-kind interface. */
function eventMetricsOn(registry: Registry): { events: EventMetrics; outputsDown(): string[] } {
  const families = new Map<MetricName, Counter | Gauge | Histogram>();
  for (const [name, family] of Object.entries(EVENT_METRICS) as [MetricName, (typeof EVENT_METRICS)[MetricName]][]) {
    const common = { name, help: family.help, labelNames: [...family.labels], registers: [registry] };
    families.set(
      name,
      family.kind === 'counter' ? new Counter(common) : family.kind === 'gauge' ? new Gauge(common) : new Histogram({ ...common, buckets: [...('buckets' in family ? family.buckets : [])] }),
    );
  }
  const up = new Map<string, number>();
  return {
    events: {
      inc: (name, labels, by = 1) => (families.get(name) as Counter).inc(labels, Math.max(0, by)),
      set: (name, labels, value) => {
        (families.get(name) as Gauge).set(labels, value);
        if (name === 's3pull_output_up' && labels['output'] !== undefined) up.set(labels['output'], value);
      },
      observe: (name, labels, value) => (families.get(name) as Histogram).observe(labels, value),
    },
    outputsDown: () => [...up].filter(([, value]) => value === 0).map(([output]) => output),
  };
}

export function createMetrics(from: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client's gauges named like counters, which promtool's lint refuses; the same figures
  // stay as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
  for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(misnamed);
  const seconds = (ms: number) => ms / 1000;
  const enabled = () => from.sources().filter((source) => source.enabled);

  // Counters from the state: set at each scrape to the recorded totals (a reset of a source's
  // state, after its bucket or prefix changed, is a counter reset, as Prometheus expects).
  const quarantined = new Gauge({ name: 's3pull_quarantined_objects', help: 'Objects quarantined now (s3pull failed SOURCE).', labelNames: ['source'], registers: [registry] });
  const lastPollEnd = new Gauge({ name: 's3pull_last_poll_end_timestamp_seconds', help: 'When the last poll (or queue drain) ended.', labelNames: ['source'], registers: [registry] });
  const lastPollOk = new Gauge({ name: 's3pull_last_poll_ok', help: '1 when the last poll ended ok, else 0.', labelNames: ['source'], registers: [registry] });
  const lag = new Gauge({ name: 's3pull_lag_seconds', help: "Now minus the newest delivered object's LastModified.", labelNames: ['source'], registers: [registry] });
  const newest = new Gauge({ name: 's3pull_partition_newest_object_timestamp_seconds', help: "LastModified of the partition's newest delivered object.", labelNames: ['source', 'partition'], registers: [registry] });
  const silent = new Gauge({ name: 's3pull_partition_silent', help: '1 when the partition delivered nothing newer for longer than expect_objects_within.', labelNames: ['source', 'partition'], registers: [registry] });
  const queueMessages = new Gauge({ name: 's3pull_queue_messages', help: 'SQS sources: messages waiting in the queue (approximate, as SQS counts).', labelNames: ['source'], registers: [registry] });
  const queueInFlight = new Gauge({ name: 's3pull_queue_messages_in_flight', help: 'SQS sources: messages received and not yet deleted or returned (all consumers).', labelNames: ['source'], registers: [registry] });
  const queueOldest = new Gauge({ name: 's3pull_queue_oldest_message_age_seconds', help: 'SQS sources: age of the oldest message this consumer received lately.', labelNames: ['source'], registers: [registry] });
  const ready = new Gauge({ name: 's3pull_source_ready', help: '1 when the source has polled (or read its queue) successfully lately, as /ready judges it.', labelNames: ['source'], registers: [registry] });

  const digestProblems = new Gauge({ name: 's3pull_digest_problems', help: 'CloudTrail digests of the last two days, at their last check: problems by kind (missing, hash_mismatch, chain_gap, bad_signature, unreadable).', labelNames: ['source', 'kind'], registers: [registry] });
  const lastDigestCheck = new Gauge({ name: 's3pull_last_digest_check_timestamp_seconds', help: 'When the CloudTrail digests of the source were last checked.', labelNames: ['source'], registers: [registry] });

  const families = [quarantined, lastPollEnd, lastPollOk, lag, newest, silent, queueMessages, queueInFlight, queueOldest, ready, digestProblems, lastDigestCheck];
  const refresh = () => {
    for (const family of families) family.reset();
    const now = from.now();
    for (const source of enabled()) {
      const id = source.id;
      const row = from.store.getSource(id);
      ready.set({ source: id }, readinessOf(source, row, now, from.nextRunMs(id)).ready ? 1 : 0);
      if (!row) continue;
      quarantined.set({ source: id }, from.store.failedObjects(id).length);
      if (row.lastPollEndMs) lastPollEnd.set({ source: id }, seconds(row.lastPollEndMs));
      if (row.lastPollStatus) lastPollOk.set({ source: id }, row.lastPollStatus === 'ok' ? 1 : 0);
      const partitions = from.store.partitions(id);
      const newestMs = Math.max(0, ...partitions.map((partition) => partition.newestDoneModifiedMs ?? 0));
      if (newestMs > 0) lag.set({ source: id }, seconds(now - newestMs));
      for (const partition of partitions) {
        if (partition.newestDoneModifiedMs) newest.set({ source: id, partition: partition.prefix || '/' }, seconds(partition.newestDoneModifiedMs));
      }
      if (source.expect_objects_within !== undefined) {
        const quiet = new Set(silentPartitions(partitions, source.expect_objects_within, now).map((s) => s.prefix));
        for (const partition of partitions) {
          if (partition.newestDoneModifiedMs) silent.set({ source: id, partition: partition.prefix || '/' }, quiet.has(partition.prefix) ? 1 : 0);
        }
      }
      if (source.cloudtrail?.digests === 'verify') {
        const problems = new Map(['missing', 'hash_mismatch', 'chain_gap', 'bad_signature', 'unreadable'].map((kind) => [kind, 0]));
        for (const check of from.store.digestChecks(id, now - 2 * 86_400_000)) {
          for (const finding of check.findings) if (problems.has(finding.kind)) problems.set(finding.kind, problems.get(finding.kind)! + 1);
        }
        for (const [kind, count] of problems) digestProblems.set({ source: id, kind }, count);
        const checked = from.store.lastDigestCheckMs(id);
        if (checked) lastDigestCheck.set({ source: id }, seconds(checked));
      }
      if (row.queue) {
        queueMessages.set({ source: id }, row.queue.messages);
        queueInFlight.set({ source: id }, row.queue.inFlight);
        if (row.queue.oldestSentMs) queueOldest.set({ source: id }, seconds((row.queue.checkedMs ?? now) - row.queue.oldestSentMs));
      }
    }
  };

  const recorded = eventMetricsOn(registry);
  // Every source's counters exist from the start at 0, so that rate() and absent() see them
  // before the first object.
  for (const source of enabled()) {
    for (const [name, family] of Object.entries(EVENT_METRICS) as [MetricName, (typeof EVENT_METRICS)[MetricName]][]) {
      if (family.kind === 'counter' && family.labels.length === 1 && family.labels[0] === 'source') recorded.events.inc(name as never, { source: source.id }, 0);
    }
    for (const outcome of ['done', 'failed', 'retry_later', 'quarantined', 'gone', 'skipped']) recorded.events.inc('s3pull_objects_total', { source: source.id, outcome }, 0);
    for (const status of ['ok', 'partial', 'failed']) recorded.events.inc('s3pull_polls_total', { source: source.id, status }, 0);
  }
  return {
    contentType: registry.contentType,
    events: recorded.events,
    outputsDown: recorded.outputsDown,
    async text() {
      refresh();
      return registry.metrics();
    },
  };
}
