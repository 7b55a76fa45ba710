import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { RunningCli, sourceYaml, writeConfig } from '../helpers/cli.js';
import { freePort, motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startForwarder, type Forwarder } from '../helpers/forwarder.js';
import { startPrometheus, untilTrue } from '../helpers/prometheus.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';

/** The value of one sample of an exposition, by its name and labels as written (`name{a="b"}`). */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the monitoring endpoint (metrics.listen)', function () {
  this.timeout(120_000);
  let s3: Forwarder;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', ['aaaa', 'bbbb', 'cccc'].map((name, index) => ({ key: trailKey('2026/11/23', `20261123T100${index}Z`, name), body: cloudTrailFile(name, 4) })));
    s3 = await startForwarder(motoEndpoint());
  });
  afterEach(() => s3.close());

  it('serves /metrics with the counts delivered and the requests S3 received, /health and /ready; promtool accepts it; a real Prometheus scrapes it', async () => {
    const port = await freePort();
    const dir = writeConfig(`state: state.db\noutput: { type: file, path: events.ndjson }\nmetrics: { listen: 127.0.0.1:${port} }\n`, {
      'a.yaml': sourceYaml('expect_objects_within: 2h\n').replace(`endpoint: ${motoEndpoint()}`, `endpoint: ${s3.url}`),
    });
    const run = new RunningCli(['run', '--config', dir]);
    const prometheus = await startPrometheus([`127.0.0.1:${port}`]);
    try {
      await run.waitFor(new RegExp(`monitoring endpoint listening: /metrics, /health, /ready address=127\\.0\\.0\\.1:${port}`));
      await run.waitFor(/poll finished source=trail status=ok objects=3 /);
      const base = `http://127.0.0.1:${port}`;
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).to.contain('text/plain');
      const text = await response.text();
      expect(sample(text, 's3pull_events_total{source="trail"}')).to.equal(12);
      expect(sample(text, 's3pull_objects_total{source="trail",outcome="done"}')).to.equal(3);
      expect(sample(text, 's3pull_objects_total{source="trail",outcome="failed"}')).to.equal(0);
      expect(sample(text, 's3pull_quarantined_objects{source="trail"}')).to.equal(0);
      expect(sample(text, 's3pull_source_ready{source="trail"}')).to.equal(1);
      expect(sample(text, 's3pull_partition_silent{source="trail",partition="AWSLogs/111122223333/CloudTrail/us-east-1/"}')).to.equal(0);
      // Requests as S3 received them (counted by the test's own forwarder), not yet stored by the service.
      const gets = s3.requests.filter((r) => r.method === 'GET' && !r.path.includes('list-type=2')).length;
      const lists = s3.requests.filter((r) => r.method === 'GET' && r.path.includes('list-type=2')).length;
      expect(gets).to.equal(3);
      expect(sample(text, 's3pull_aws_requests_total{source="trail",operation="GetObject"}')).to.equal(gets);
      expect(sample(text, 's3pull_aws_requests_total{source="trail",operation="ListObjectsV2"}')).to.equal(lists);
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
      expect(await ready.json()).to.deep.equal({ ready: true, sources: [{ source: 'trail', ready: true, reason: 'ok' }] });
      expect((await fetch(`${base}/elsewhere`)).status).to.equal(404);

      // Prometheus's own view, through PromQL.
      let seen: number | undefined;
      await untilTrue(async () => (seen = await prometheus.query('sum(s3pull_events_total{source="trail"})')) === 12, 30_000, () => `Prometheus saw ${seen} events`);
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
});
