import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_METRICS, emit, onEvent, recordEventsInto, type EventMetrics } from '../../src/telemetry/events.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { Logger, LogLevel } from '../../src/log/logger.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

interface Line {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps its lines, with the context its children add, and a level threshold. */
function keepingLogger(lines: Line[], threshold: LogLevel = 'debug', context: Record<string, unknown> = {}): Logger {
  const order: LogLevel[] = ['error', 'warn', 'info', 'debug'];
  const at = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => lines.push({ level, message, fields: { ...context, ...fields } });
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (fields) => keepingLogger(lines, threshold, { ...context, ...fields }),
    enabled: (level) => order.indexOf(level) <= order.indexOf(threshold),
    context,
  };
}

/** Records what the events asked of the metrics. */
function recordingMetrics(calls: string[]): EventMetrics {
  const show = (labels: Record<string, string>) => JSON.stringify(labels);
  return {
    inc: (name, labels, by = 1) => calls.push(`inc ${name} ${show(labels)} ${by}`),
    set: (name, labels, value) => calls.push(`set ${name} ${show(labels)} ${value}`),
    observe: (name, labels, value) => calls.push(`observe ${name} ${show(labels)} ${value}`),
  };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('telemetry events', () => {
  afterEach(() => recordEventsInto(undefined));

  it('an event writes one line at its level, with its message, its fields and its name, and keeps quiet fields out', () => {
    const lines: Line[] = [];
    const log = keepingLogger(lines).child({ source: 'trail', key: 'a.json.gz' });
    emit(log, 'object_done', { events: 4, bad_lines: 1, repeats: 0, bytes: 900, decoded_bytes: 5000 });
    emit(log, 'object_quarantined', { attempts: 3, error: 'not gzip' });
    expect(lines).to.deep.equal([
      { level: 'debug', message: 'object done', fields: { source: 'trail', key: 'a.json.gz', events: 4, bad_lines: 1, repeats: 0, event: 'object_done' } },
      { level: 'error', message: 'object failed for good, quarantined', fields: { source: 'trail', key: 'a.json.gz', attempts: 3, error: 'not gzip', event: 'object_quarantined' } },
    ]);
  });

  it('its metrics are counted under the source of the logger, also when its line is below the log level', () => {
    const lines: Line[] = [];
    const calls: string[] = [];
    recordEventsInto(recordingMetrics(calls));
    const log = keepingLogger(lines, 'info').child({ source: 'trail' });
    emit(log, 'object_done', { events: 4, bad_lines: 1, repeats: 2, bytes: 900, decoded_bytes: 5000 });
    emit(log, 'output_unavailable', { output: 'syslog tcp://siem:514', error: 'ECONNREFUSED' });
    expect(lines.map((line) => line.message)).to.deep.equal(['output receiver unavailable: sources pause and retry, nothing is lost']);
    expect(calls).to.deep.equal([
      'inc s3pull_objects_total {"source":"trail","outcome":"done"} 1',
      'inc s3pull_events_total {"source":"trail"} 4',
      'inc s3pull_bad_lines_total {"source":"trail"} 1',
      'inc s3pull_repeats_dropped_total {"source":"trail"} 2',
      'inc s3pull_object_bytes_total {"source":"trail"} 900',
      'inc s3pull_object_decoded_bytes_total {"source":"trail"} 5000',
      'set s3pull_output_up {"output":"syslog tcp://siem:514"} 0',
      'inc s3pull_output_retries_total {"output":"syslog tcp://siem:514"} 1',
    ]);
    // A poll that broke off (it threw, so poll_finished never came) still counts as a failed poll.
    calls.length = 0;
    emit(keepingLogger(lines, 'info'), 'poll_broke_off', { source: 'flow', error: 'boom', crashed: true });
    expect(calls).to.deep.equal(['inc s3pull_polls_total {"source":"flow","status":"failed"} 1']);
    expect(lines.at(-1)).to.deep.include({ level: 'error', message: 'poll crashed' });
  });

  it('without a recorder events only log; listeners see every event', () => {
    const lines: Line[] = [];
    const seen: string[] = [];
    const stop = onEvent((name, fields) => seen.push(`${name} ${JSON.stringify(fields)}`));
    emit(keepingLogger(lines), 'objects_planned', { count: 3 });
    stop();
    emit(keepingLogger(lines), 'objects_planned', { count: 5 });
    expect(seen).to.deep.equal(['objects_planned {"count":3}']);
    expect(lines).to.have.length(2);
  });

  it('every event family is exposed by the metrics, with its type, and promtool-style names', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const metrics = createMetrics({ sources: () => [{ id: 'trail', enabled: true, collection: { type: 'prefix' } }], store, now: () => Date.now(), nextRunMs: () => null });
      recordEventsInto(metrics.events);
      emit(keepingLogger([]).child({ source: 'trail' }), 'poll_finished', { status: 'ok', objects: 1, events: 2, failed: 0, retrying: 0, skipped: 0, seconds: 0.2 });
      emit(keepingLogger([]), 'output_delivered', { output: 'stdout', events: 2, bytes: 300, seconds: 0.01 });
      const text = await metrics.text();
      for (const [name, family] of Object.entries(EVENT_METRICS)) {
        expect(text, name).to.contain(`# TYPE ${name} ${family.kind}`);
        if (family.kind === 'counter') expect(name).to.match(/_total$/);
      }
      expect(text).to.contain('s3pull_poll_duration_seconds_bucket{le="0.5",source="trail"} 1');
      expect(text).to.contain('s3pull_output_bytes_total{output="stdout"} 300');
      // Counters of each source exist at 0 before anything happened, for rate() and alerts.
      expect(text).to.contain('s3pull_objects_total{source="trail",outcome="quarantined"} 0');
      expect(metrics.outputsDown()).to.deep.equal([]);
      emit(keepingLogger([]), 'output_unavailable', { output: 'stdout', error: 'EPIPE' });
      expect(metrics.outputsDown()).to.deep.equal(['stdout']);
    } finally {
      store.close();
    }
  });

  it('CloudTrail digest checks: problems of the last two days by kind and the last check, read from the state; recoveries counted', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const now = Date.now();
      store.openSource('trail', 'scope', null, now);
      const finding = (kind: string) => ({ kind, digest: 'd' });
      store.recordDigestCheck('trail', { key: 'd1', endMs: now - 3_600_000, checkedMs: now, filesListed: 3, filesDelivered: 2, recovered: 1, findings: [finding('missing'), finding('hash_mismatch'), finding('unhashed')] });
      store.recordDigestCheck('trail', { key: 'old', endMs: now - 3 * 86_400_000, checkedMs: now, filesListed: 1, filesDelivered: 0, recovered: 0, findings: [finding('missing')] });
      store.recordDigestCheckTime('trail', now);
      const metrics = createMetrics({ sources: () => [{ id: 'trail', enabled: true, collection: { type: 'prefix' }, cloudtrail: { digests: 'verify' } }], store, now: () => now, nextRunMs: () => null });
      recordEventsInto(metrics.events);
      emit(keepingLogger([]).child({ source: 'trail' }), 'object_recovered', { key: 'k', digest: 'd1' });
      const text = await metrics.text();
      expect(text).to.contain('s3pull_digest_problems{source="trail",kind="missing"} 1');
      expect(text).to.contain('s3pull_digest_problems{source="trail",kind="hash_mismatch"} 1');
      expect(text).to.contain('s3pull_digest_problems{source="trail",kind="chain_gap"} 0');
      expect(text).to.contain(`s3pull_last_digest_check_timestamp_seconds{source="trail"} ${now / 1000}`);
      expect(text).to.contain('s3pull_objects_recovered_total{source="trail"} 1');
    } finally {
      recordEventsInto(undefined);
      store.close();
    }
  });

  it('is the one place: outside the CLI and the logger, no module logs but through events, and only metrics.ts imports prom-client', () => {
    const direct: string[] = [];
    const promClient: string[] = [];
    for (const file of sourceFiles(src)) {
      const relative = path.relative(src, file);
      const text = readFileSync(file, 'utf8');
      if (/from 'prom-client'/.test(text)) promClient.push(relative);
      if (relative.startsWith('log/') || relative.startsWith('telemetry/')) continue;
      const lines = text.split('\n').filter((line) => /\b(log|logger)\.(error|warn|info|debug)\(/.test(line));
      direct.push(...lines.map((line) => `${relative}: ${line.trim()}`));
    }
    expect(direct).to.deep.equal([]);
    expect(promClient).to.deep.equal(['telemetry/metrics.ts']);
  });
});
