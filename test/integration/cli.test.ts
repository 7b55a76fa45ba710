import { expect } from 'chai';
import { startForwarder } from '../helpers/forwarder.js';
import { readFileSync, existsSync, statSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import path from 'node:path';
import { runCli, RunningCli, sourceYaml, writeConfig } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';

const COLLECTOR = 'state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: debug }\n';


function eventIds(dir: string): string[] {
  const file = path.join(dir, 'events.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line).event.eventID as string);
}

describe('the s3pull command line', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
  });

  it('validate: exits 0 on a good config and 2 listing every problem of a bad one', async () => {
    const good = await runCli(['validate', '--config', writeConfig(COLLECTOR, { 'a.yaml': sourceYaml() })]);
    expect(good.code).to.equal(0);
    expect(good.stdout).to.contain('configuration OK').and.contain('trail: s3://trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/ cloudtrail, every 5 min');
    const bad = await runCli(['validate', '--config', writeConfig(COLLECTOR, { 'a.yaml': sourceYaml('recurrence: 10s\neps_throttle: lots\n') })]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('has 2 problem(s)').and.match(/a\.yaml: field recurrence <10s>/).and.match(/a\.yaml: field eps_throttle <lots>/);
  });

  it('a reader that closes stdout early (s3pull --help | head) ends it quietly, exit 0, no stack trace', async () => {
    const result = await runCli(['--help'], { closeStdout: true });
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
  });

  it('once: pulls, prints a summary, and exits 1 when an object failed', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'good'), body: cloudTrailFile('good', 3) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bad1'), body: 'not gzip, not json' },
    ]);
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml() });
    const result = await runCli(['once', '--config', dir]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/trail\s+partial\s+1\s+3/);
    expect(result.stdout).to.contain('bad1.json.gz: not valid JSON');
    expect(eventIds(dir)).to.deep.equal(['good-0', 'good-1', 'good-2']);
    expect(statSync(path.join(dir, 'state.db')).mode & 0o777).to.equal(0o600);
    expect(result.stderr + result.stdout).to.not.contain('s3cr3t-do-not-log-me');
  });

  it('failed lists quarantined objects and retry queues them again', async () => {
    const badKey = trailKey('2026/11/23', '20261123T1005Z', 'bad1');
    await putObjects('trail-bucket', [{ key: badKey, body: 'not gzip, not json' }]);
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml('max_attempts: 1\n') });
    expect((await runCli(['once', '--config', dir])).code).to.equal(1);
    const failed = await runCli(['failed', 'trail', '--config', dir]);
    expect(failed.stdout).to.match(/^KEY\s+ATTEMPTS\s+LAST ERROR/).and.contain(badKey).and.contain('not valid JSON');
    const json = JSON.parse((await runCli(['failed', 'trail', '--json', '--config', dir])).stdout);
    expect(json).to.have.length(1);
    expect(json[0]).to.include({ key: badKey, attempts: 1 });

    // The operator fixes the object, then retries it.
    await putObjects('trail-bucket', [{ key: badKey, body: cloudTrailFile('fixed', 2) }]);
    const retry = await runCli(['retry', 'trail', badKey, '--config', dir]);
    expect(retry.stdout).to.contain('1 object(s) of trail queued again');
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    expect(eventIds(dir)).to.deep.equal(['fixed-0', 'fixed-1']);
    expect((await runCli(['failed', 'trail', '--config', dir])).stdout).to.contain('no quarantined objects');
    const nothing = await runCli(['retry', 'trail', '--config', dir]);
    expect(nothing.code).to.equal(1);
  });

  it('sources --watch redraws the table as the state changes (before the state file exists, then after a pull), and SIGTERM ends it with 0', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 3) }]);
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml() });
    const watch = new RunningCli(['sources', '--watch', '1s', '--config', dir]);
    // No state file yet: the source has never polled.
    await watch.waitForOutput(/every 1s, as of [\d:]+Z \(Ctrl-C to stop\)\n\nSOURCE[^\n]*\ntrail\s+\S.*never/);
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    const from = watch.stdout.length;
    // A later table shows the pull: 1 object, 3 events, 0 failed.
    await watch.waitForOutput(/\ntrail\s.*\bok\s+-?\S*\s+1\s+3\s+0\s/, from);
    watch.child.kill('SIGTERM');
    expect(await watch.exitWithin(10_000)).to.equal(0);
    expect(watch.stderr).to.equal('');
    // With --json in a pipe: one JSON document per line and turn.
    const lines = new RunningCli(['sources', '--watch', '1s', '--json', '--config', dir]);
    await lines.waitForOutput(/^[^\n]+\n[^\n]+\n/);
    lines.child.kill('SIGTERM');
    expect(await lines.exitWithin(10_000)).to.equal(0);
    for (const line of lines.stdout.trimEnd().split('\n')) expect(JSON.parse(line)[0]).to.include({ id: 'trail', objectsDone: 1, events: 3 });
    const bad = await runCli(['sources', '--watch', 'often', '--config', dir]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--watch often: give an interval from 1s to 1h');
  });

  it('sources counts the AWS requests of each source per operation and UTC day, as S3 received them, and adds them up across runs', async () => {
    await putObjects('trail-bucket', ['aaaa', 'bbbb', 'cccc'].map((name, index) => ({ key: trailKey('2026/11/23', `20261123T100${index}Z`, name), body: cloudTrailFile(name, 2) })));
    const s3 = await startForwarder(motoEndpoint());
    try {
      const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml().replace(`endpoint: ${motoEndpoint()}`, `endpoint: ${s3.url}`) });
      expect((await runCli(['once', '--config', dir])).code).to.equal(0);
      expect((await runCli(['once', '--config', dir])).code).to.equal(0);
      // What S3 saw, by operation: LIST (list-type=2, with or without a delimiter), GET of an object, HEAD of the bucket.
      const seen: Record<string, number> = {};
      for (const { method, path: url } of s3.requests) {
        const operation = method === 'GET' && url.includes('list-type=2') ? 'ListObjectsV2' : method === 'GET' ? 'GetObject' : method === 'HEAD' ? 'HeadBucket' : `${method} ${url}`;
        seen[operation] = (seen[operation] ?? 0) + 1;
      }
      expect(seen.GetObject, 'three objects, each read once').to.equal(3);
      const [trail] = JSON.parse((await runCli(['sources', '--json', '--config', dir])).stdout);
      const today = new Date().toISOString().slice(0, 10);
      expect(Object.keys(trail.requests)).to.deep.equal([today]);
      expect(trail.requests[today]).to.deep.equal(seen);
      const table = (await runCli(['sources', '--config', dir])).stdout;
      expect(table).to.contain(`trail: AWS requests today (UTC): GetObject 3, ListObjectsV2 ${seen.ListObjectsV2}`);
    } finally {
      await s3.close();
    }
  });

  it('sources --json and marker show report the marker, counts and last poll', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml() });
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    const status = await runCli(['sources', '--json', '--config', dir]);
    const [trail] = JSON.parse(status.stdout);
    expect(trail).to.include({ id: 'trail', objectsDone: 1, events: 2, objectsFailed: 0, lastPollStatus: 'ok' });
    expect(trail.partitions).to.deep.equal([{ prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/', settledKey: '', newestDoneModifiedMs: trail.partitions[0].newestDoneModifiedMs, unpaddedDates: false }]);
    const table = await runCli(['sources', '--config', dir]);
    expect(table.stdout).to.match(/^SOURCE\s+MARKER\s+LAST POLL\s+NEXT POLL\s+OBJECTS\s+EVENTS\s+FAILED\s+LAG/);
    const shown = await runCli(['marker', 'show', 'trail', '--config', dir]);
    expect(shown.stdout).to.contain('partition AWSLogs/111122223333/CloudTrail/us-east-1/: marker (beginning)');
    const reset = await runCli(['marker', 'reset', 'trail', '--after', 'elsewhere/key', '--config', dir]);
    expect(reset.code).to.equal(2);
    expect(reset.stderr).to.contain("is not under the source's prefix");
  });

  it('run: a marker reset made while it runs is applied at its next poll', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml("schedule: '* * * * * *'\n") });
    const service = new RunningCli(['run', '--config', dir]);
    try {
      await service.waitFor(/poll finished source=trail status=ok objects=1 /);
      // Taken before the reset is requested: the service may apply it while the CLI is still exiting.
      const from = service.stderr.length;
      const reset = await runCli(['marker', 'reset', 'trail', '--beginning', '--config', dir]);
      expect(reset.code).to.equal(0);
      await service.waitFor(/marker reset applied/, from);
      await service.waitFor(/poll finished source=trail status=ok objects=1 /, from);
      expect(eventIds(dir)).to.deep.equal(['a-0', 'a-1', 'a-0', 'a-1']);
      service.child.kill('SIGTERM');
      expect(await service.exited).to.equal(0);
    } finally {
      // Cleanup only: an assertion here would hide the failure that got us here.
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    }
  });

  it('run: SIGTERM in the middle of a pull exits 0, and a restart delivers the rest without loss or repetition', async () => {
    const objects = Array.from({ length: 12 }, (_, index) => ({
      key: trailKey('2026/11/23', `20261123T10${String(index).padStart(2, '0')}Z`, `k${index}`),
      body: cloudTrailFile(`o${index}`, 250),
    }));
    await putObjects('trail-bucket', objects);
    // 3,000 events at 100 EPS: after the first object (250 events) at least 25 s of pull remain,
    // so SIGTERM lands in the middle of it however slow this machine is.
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml('eps_throttle: 100\nconcurrency: 2\n') });
    const service = new RunningCli(['run', '--config', dir]);
    await service.waitFor(/object done/);
    service.child.kill('SIGTERM');
    expect(await service.exited).to.equal(0);
    expect(service.stderr).to.contain('s3pull stopped');
    const before = eventIds(dir);
    expect(before.length).to.be.within(1, 2999);

    // The rest without the throttle (the scope, and so the state, is unchanged).
    writeFileSync(path.join(dir, 'sources.d', 'a.yaml'), sourceYaml('eps_throttle: 0\nconcurrency: 2\n'));
    const rest = await runCli(['once', '--config', dir]);
    expect(rest.code).to.equal(0);
    const all = eventIds(dir);
    expect(all).to.have.length(3000);
    expect(new Set(all).size).to.equal(3000);
  });

  it('one failing source never stops another', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) }]);
    const dir = writeConfig(COLLECTOR, {
      'a.yaml': sourceYaml(),
      'b.yaml': sourceYaml().replace('id: trail', 'id: missing').replace('bucket: trail-bucket', 'bucket: no-such-bucket'),
    });
    const result = await runCli(['once', '--config', dir]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/missing\s+failed/).and.match(/trail\s+ok\s+1\s+1/);
    expect(result.stdout).to.contain('bucket no-such-bucket: the bucket does not exist');
    expect(eventIds(dir)).to.deep.equal(['a-0']);
  });

  it('run: SIGHUP adds, changes and removes sources, and changes the output, without a restart', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) },
      { key: 'other/2026/11/23/x.json.gz', body: cloudTrailFile('other', 1) },
    ]);
    const every = "schedule: '* * * * * *'\n";
    const dir = writeConfig(COLLECTOR, { 'a.yaml': sourceYaml(every) });
    const service = new RunningCli(['run', '--config', dir]);
    try {
      await service.waitFor(/poll finished source=trail status=ok objects=1 /);
      writeFileSync(path.join(dir, 'sources.d', 'b.yaml'), sourceYaml(every).replace('id: trail', 'id: other').replace(/prefix: .*/, 'prefix: other/'));
      // As logrotate does: move the output away, then HUP; the new events go to a new file.
      renameSync(path.join(dir, 'events.ndjson'), path.join(dir, 'events.ndjson.1'));
      let from = service.stderr.length;
      service.child.kill('SIGHUP');
      await service.waitFor(/configuration reloaded added=other removed=- changed=-/, from);
      await service.waitFor(/poll finished source=other status=ok objects=1 /, from);
      expect(readFileSync(path.join(dir, 'events.ndjson.1'), 'utf8')).to.contain('"a-0"');
      expect(eventIds(dir)).to.deep.equal(['other-0']);

      unlinkSync(path.join(dir, 'sources.d', 'b.yaml'));
      writeFileSync(path.join(dir, 'sources.d', 'a.yaml'), sourceYaml("schedule: '*/2 * * * * *'\n"));
      from = service.stderr.length;
      service.child.kill('SIGHUP');
      await service.waitFor(/configuration reloaded added=- removed=other changed=trail/, from);

      // A new output in s3pull.yaml: the next polls write there.
      writeFileSync(path.join(dir, 's3pull.yaml'), COLLECTOR.replace('events.ndjson', 'moved.ndjson'));
      from = service.stderr.length;
      service.child.kill('SIGHUP');
      await service.waitFor(/output changed was="file .*events\.ndjson" now="file .*moved\.ndjson"/, from);
      await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 1) }]);
      await service.waitFor(/poll finished source=trail status=ok objects=1 /, from);
      expect(readFileSync(path.join(dir, 'moved.ndjson'), 'utf8')).to.contain('"b-0"');

      writeFileSync(path.join(dir, 'sources.d', 'a.yaml'), sourceYaml('recurrence: 5s\n'));
      from = service.stderr.length;
      service.child.kill('SIGHUP');
      await service.waitFor(/reload refused, the running configuration stays .*recurrence <5s>/, from);
      expect(eventIds(dir)).to.deep.equal(['other-0']);
      service.child.kill('SIGTERM');
      expect(await service.exited).to.equal(0);
    } finally {
      // Cleanup only: an assertion here would hide the failure that got us here.
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    }
  });

  it('never logs a secret key, session token or proxy password, even at debug level and when things fail', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) }]);
    const proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55w0rd' });
    try {
      const auth = 'auth: { type: access_key, access_key_id: AKIATESTKEY, secret_access_key: s3cr3t-do-not-log-me, session_token: t0ken-do-not-log-me }';
      const good = sourceYaml(`proxy: { url: "${proxy.url}", username: collector, password: pr0xy-pa55w0rd }\n`).replace(/^auth: .*$/m, auth);
      const badProxy = sourceYaml(`proxy: { url: "${proxy.url}", username: collector, password: wr0ng-pa55w0rd }\n`).replace(/^auth: .*$/m, auth).replace('id: trail', 'id: bad');
      const dir = writeConfig(COLLECTOR, { 'a.yaml': good, 'b.yaml': badProxy });
      const result = await runCli(['once', '--config', dir, '--log-level', 'debug']);
      expect(result.stderr).to.contain('poll finished');
      expect(result.stdout).to.contain('refused the credentials (HTTP 407');
      expect(eventIds(dir)).to.deep.equal(['a-0']);
      const output = result.stderr + result.stdout;
      for (const secret of ['s3cr3t-do-not-log-me', 't0ken-do-not-log-me', 'pr0xy-pa55w0rd', 'wr0ng-pa55w0rd']) expect(output).to.not.contain(secret);
    } finally {
      await proxy.close();
    }
  });
});
