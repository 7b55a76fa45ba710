/**
 * The only importer of prom-client: s3pull's metrics in the Prometheus text format. They are read
 * at each scrape from what the service records anyway (the state file's counts, markers and
 * queue figures, the requests not stored yet), so a count on /metrics and one in `s3pull
 * sources` can never disagree, and counts survive a restart. Label values are bounded: source
 * ids, partition prefixes, operations, outcomes, never a key.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../state/types.js';
import type { RequestCount } from '../aws/request-counts.js';
import { silentPartitions } from '../poll/silence.js';
import { readinessOf, type ReadinessSource } from './readiness.js';

export interface MetricsSources {
  /** The sources of the running configuration. */
  sources(): ReadinessSource[];
  store: Store;
  now(): number;
  /** Requests counted since the last store. */
  pendingRequests(): RequestCount[];
  nextRunMs(sourceId: string): number | null;
}

export interface Metrics {
  text(): Promise<string>;
  readonly contentType: string;
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
  const objects = new Counter({ name: 's3pull_objects_total', help: 'Objects by outcome: done (delivered), failed (quarantined, ever), skipped (file_pattern, filters).', labelNames: ['source', 'outcome'], registers: [registry] });
  const events = new Counter({ name: 's3pull_events_total', help: 'Events delivered.', labelNames: ['source'], registers: [registry] });
  const badLines = new Counter({ name: 's3pull_bad_lines_total', help: 'Lines or records that could not be parsed, skipped and counted.', labelNames: ['source'], registers: [registry] });
  const repeats = new Counter({ name: 's3pull_repeats_dropped_total', help: 'Events dropped as repeats (dedup).', labelNames: ['source'], registers: [registry] });
  const requests = new Counter({ name: 's3pull_aws_requests_total', help: 'AWS requests made for the source, every attempt (as AWS bills them), by operation.', labelNames: ['source', 'operation'], registers: [registry] });
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

  const families = [objects, events, badLines, repeats, requests, quarantined, lastPollEnd, lastPollOk, lag, newest, silent, queueMessages, queueInFlight, queueOldest, ready];
  const refresh = () => {
    for (const family of families) family.reset();
    const now = from.now();
    const pending = from.pendingRequests();
    for (const source of enabled()) {
      const id = source.id;
      const row = from.store.getSource(id);
      const totals = row ? from.store.requestTotals(id) : {};
      for (const count of pending.filter((c) => c.sourceId === id)) totals[count.operation] = (totals[count.operation] ?? 0) + count.count;
      for (const [operation, count] of Object.entries(totals)) requests.inc({ source: id, operation }, count);
      ready.set({ source: id }, readinessOf(source, row, now, from.nextRunMs(id)).ready ? 1 : 0);
      if (!row) continue;
      objects.inc({ source: id, outcome: 'done' }, row.objectsDone);
      objects.inc({ source: id, outcome: 'failed' }, row.objectsFailed);
      objects.inc({ source: id, outcome: 'skipped' }, row.objectsSkipped);
      events.inc({ source: id }, row.events);
      badLines.inc({ source: id }, row.badLines);
      repeats.inc({ source: id }, row.duplicates);
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
      if (row.queue) {
        queueMessages.set({ source: id }, row.queue.messages);
        queueInFlight.set({ source: id }, row.queue.inFlight);
        if (row.queue.oldestSentMs) queueOldest.set({ source: id }, seconds((row.queue.checkedMs ?? now) - row.queue.oldestSentMs));
      }
    }
  };

  return {
    contentType: registry.contentType,
    async text() {
      refresh();
      return registry.metrics();
    },
  };
}
