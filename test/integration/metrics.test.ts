import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { RunningCli, sourceYaml, writeConfig } from '../helpers/cli.js';
import { freePort, motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startForwarder, type Forwarder } from '../helpers/forwarder.js';
import { startPrometheus, untilTrue } from '../helpers/prometheus.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';

const monitoringDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../conf/monitoring');

/** Each query of the shipped Grafana dashboard, with its panel's title. */
function dashboardQueries(): { title: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(path.join(monitoringDir, 's3pull-dashboard.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
}

/** Panels with nothing to show while a polled source works: SQS figures, silence, failures. */
const EMPTY_FOR_A_HEALTHY_POLLED_SOURCE = new Set([
  'Silent partitions', 'Failed requests per second by outcome', 'Queue depth and messages in flight', 'Oldest message age', 'Messages by outcome per second',
  'Visibility extensions and receive failures',
  // Only sources with cloudtrail.digests: verify have digest problem series (the metrics unit test sets them).
  'Digest problems (last two days, by kind)',
]);

/** The value of one sample of an exposition, by its name and labels as written (`name{a="b"}`). */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the monitoring endpoint (metrics.listen)', function () {
  this.timeout(120_000);
  let s3: Forwarder;
  let storedBytes = 0;
  let decodedBytes = 0;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    const objects = ['aaaa', 'bbbb', 'cccc'].map((name, index) => ({ key: trailKey('2026/11/23', `20261123T100${index}Z`, name), body: cloudTrailFile(name, 4) }));
    storedBytes = objects.reduce((sum, object) => sum + object.body.length, 0);
    decodedBytes = objects.reduce((sum, object) => sum + gunzipSync(object.body).length, 0);
    await putObjects('trail-bucket', objects);
    s3 = await startForwarder(motoEndpoint());
  });
  afterEach(() => s3.close());

  it('serves /metrics with the counts delivered and the requests S3 received, /health and /ready; promtool accepts it; a real Prometheus scrapes it', async () => {
    const port = await freePort();
    const dir = writeConfig(`state: state.db\noutput: { type: file, path: events.ndjson }\nmetrics: { listen: 127.0.0.1:${port} }\n`, {
      'a.yaml': sourceYaml('expect_objects_within: 2h\n').replace(`endpoint: ${motoEndpoint()}`, `endpoint: ${s3.url}`),
    });
    // Prometheus first: if it cannot start, no s3pull is left running.
    const prometheus = await startPrometheus([`127.0.0.1:${port}`], '1s', [path.join(monitoringDir, 's3pull-alerts.yaml')]);
    const run = new RunningCli(['run', '--config', dir]);
    try {
      await run.waitFor(new RegExp(`monitoring endpoint listening: /metrics, /health, /ready address=127\\.0\\.0\\.1:${port}`));
      await run.waitFor(/poll finished source=trail status=ok objects=3 /);
      const base = `http://127.0.0.1:${port}`;
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).to.contain('text/plain');
      const text = await response.text();
      expect(sample(text, 's3pull_events_total{source="trail"}')).to.equal(12);
      expect(sample(text, 's3pull_objects_total{source="trail",outcome="done"}')).to.equal(3);
      expect(sample(text, 's3pull_objects_total{source="trail",outcome="quarantined"}')).to.equal(0);
      expect(sample(text, 's3pull_quarantined_objects{source="trail"}')).to.equal(0);
      expect(sample(text, 's3pull_source_ready{source="trail"}')).to.equal(1);
      expect(sample(text, 's3pull_partition_silent{source="trail",partition="AWSLogs/111122223333/CloudTrail/us-east-1/"}')).to.equal(0);
      // Requests as S3 received them (counted by the test's own forwarder), not yet stored by the service.
      const gets = s3.requests.filter((r) => r.method === 'GET' && !r.path.includes('list-type=2')).length;
      const lists = s3.requests.filter((r) => r.method === 'GET' && r.path.includes('list-type=2')).length;
      expect(gets).to.equal(3);
      expect(sample(text, 's3pull_aws_requests_total{source="trail",operation="GetObject",outcome="ok"}')).to.equal(gets);
      expect(sample(text, 's3pull_aws_requests_total{source="trail",operation="ListObjectsV2",outcome="ok"}')).to.equal(lists);
      // What happened, as the events counted it.
      const output = `file ${path.join(dir, 'events.ndjson')}`;
      expect(sample(text, 's3pull_polls_total{source="trail",status="ok"}')).to.equal(1);
      expect(sample(text, 's3pull_poll_duration_seconds_count{source="trail"}')).to.equal(1);
      expect(sample(text, 's3pull_last_successful_poll_timestamp_seconds{source="trail"}')).to.be.greaterThan(Date.now() / 1000 - 120);
      expect(sample(text, 's3pull_object_bytes_total{source="trail"}')).to.equal(storedBytes);
      expect(sample(text, 's3pull_object_decoded_bytes_total{source="trail"}')).to.equal(decodedBytes);
      expect(sample(text, `s3pull_output_events_total{output="${output}"}`)).to.equal(12);
      expect(sample(text, `s3pull_output_batches_total{output="${output}"}`)).to.equal(3);
      expect(sample(text, `s3pull_output_delivery_seconds_count{output="${output}"}`)).to.equal(3);
      expect(sample(text, `s3pull_output_bytes_total{output="${output}"}`)).to.equal(statSync(path.join(dir, 'events.ndjson')).size);
      expect(sample(text, `s3pull_output_up{output="${output}"}`)).to.equal(1);
      expect(text).to.contain('process_cpu_seconds_total');
      // Never a key in a label.
      expect(text).not.to.contain('.json.gz');

      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).to.equal(0);

      const health = await fetch(`${base}/health`);
      expect(health.status).to.equal(200);
      expect(await health.json()).to.include({ status: 'ok' });
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({ ready: true, sources: [{ source: 'trail', ready: true, reason: 'ok' }], output: { ready: true, reason: 'ok' } });
      expect((await fetch(`${base}/elsewhere`)).status).to.equal(404);

      // Prometheus's own view, through PromQL.
      let seen: number | undefined;
      await untilTrue(async () => (seen = await prometheus.query('sum(s3pull_events_total{source="trail"})')) === 12, 30_000, () => `Prometheus saw ${seen} events`);

      // The shipped dashboard's queries, as Grafana would send them, on what Prometheus scraped:
      // each is valid PromQL and finds series (the SQS panels have none for a polled source).
      let rate: number | undefined;
      await untilTrue(async () => (rate = await prometheus.query("sum(rate(s3pull_events_total[1m]))")) !== undefined, 30_000, () => `no rate yet (${rate})`);
      for (const { title, expr } of dashboardQueries()) {
        const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$source', '.*');
        const answer = await prometheus.queryResult(promql);
        expect(answer.status, `${title}: ${answer.error ?? ''}`).to.equal('success');
        if (!EMPTY_FOR_A_HEALTHY_POLLED_SOURCE.has(title)) expect(answer.result, `${title}: ${promql}`).to.not.be.empty;
      }
      // The shipped alerting rules load, evaluate without error, and none fires on a working collector.
      let rules: { name: string; health: string; lastError?: string }[] = [];
      await untilTrue(async () => (rules = await prometheus.rules()).length > 0 && rules.every((rule) => rule.health !== 'unknown'), 30_000, () => `rules: ${JSON.stringify(rules)}`);
      expect(rules.filter((rule) => rule.health !== 'ok')).to.deep.equal([]);
      expect(rules.map((rule) => rule.name)).to.include.members(['S3pullDown', 'S3pullSourceNotReady', 'S3pullPartitionSilent', 'S3pullOutputDown']);
      const firing = await prometheus.queryResult('ALERTS');
      expect(firing.result.map((series) => series.metric['alertname'])).to.deep.equal([]);
    } finally {
      await prometheus.stop();
      run.child.kill('SIGTERM');
    }
    expect(await run.exitWithin(30_000)).to.equal(0);
  });

  it('/ready says which source is not working and why (503); a port in use is one error line and the service goes on', async () => {
    const taken = await startForwarder(motoEndpoint());
    const takenPort = Number(new URL(taken.url).port);
    const port = await freePort();
    const dir = writeConfig(`state: state.db\noutput: { type: file, path: events.ndjson }\nmetrics: { listen: 127.0.0.1:${port} }\n`, {
      'a.yaml': sourceYaml(),
      'b.yaml': sourceYaml().replace('id: trail', 'id: gone').replace('bucket: trail-bucket', 'bucket: no-such-bucket'),
    });
    const run = new RunningCli(['run', '--config', dir]);
    try {
      await run.waitFor(/poll finished source=gone status=failed/);
      await run.waitFor(/poll finished source=trail status=ok/);
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).to.equal(503);
      const body = (await ready.json()) as { ready: boolean; sources: { source: string; ready: boolean; reason: string }[] };
      expect(body.ready).to.equal(false);
      expect(body.sources.find((s) => s.source === 'trail')).to.include({ ready: true });
      expect(body.sources.find((s) => s.source === 'gone')!.reason).to.match(/^its last poll ended failed: .*no-such-bucket/);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exitWithin(30_000)).to.equal(0);

    const busy = writeConfig(`state: state.db\noutput: { type: file, path: events.ndjson }\nmetrics: { listen: 127.0.0.1:${takenPort} }\n`, { 'a.yaml': sourceYaml() });
    const second = new RunningCli(['run', '--config', busy]);
    try {
      await second.waitFor(new RegExp(`ERROR the monitoring endpoint cannot listen on 127\\.0\\.0\\.1:${takenPort} \\(.*EADDRINUSE.*\\); s3pull goes on without it`));
      await second.waitFor(/poll finished source=trail status=ok objects=3 /);
    } finally {
      second.child.kill('SIGTERM');
      await taken.close();
    }
    expect(await second.exitWithin(30_000)).to.equal(0);
  });

  it('an output whose receiver is down: s3pull_output_up 0, its retries counted, /ready 503 naming it; the same line in the log', async () => {
    const port = await freePort();
    const closed = await freePort(); // nothing listens there
    const dir = writeConfig(`state: state.db\noutput: { type: syslog, transport: tcp, host: 127.0.0.1, port: ${closed} }\nmetrics: { listen: 127.0.0.1:${port} }\n`, { 'a.yaml': sourceYaml() });
    const run = new RunningCli(['run', '--config', dir]);
    try {
      await run.waitFor(/WARN  output receiver unavailable: sources pause and retry, nothing is lost .*output=/);
      const output = `syslog tcp://127.0.0.1:${closed} (rfc5424)`;
      let text = '';
      await untilTrue(async () => (sample((text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()), `s3pull_output_retries_total{output="${output}"}`) ?? 0) >= 2, 30_000, () => text);
      expect(sample(text, `s3pull_output_up{output="${output}"}`)).to.equal(0);
      expect(sample(text, 's3pull_events_total{source="trail"}')).to.equal(0);
      const ready = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(ready.status).to.equal(503);
      expect(((await ready.json()) as { output: unknown }).output).to.deep.equal({ ready: false, reason: `receiver unavailable: ${output}` });
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exitWithin(30_000)).to.equal(0);
  });
});
