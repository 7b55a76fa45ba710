/**
 * The cases an adversarial first try found (issue 9): inputs that hung, spun or printed a stack
 * trace. Each runs the real CLI against moto, real files and a real tmpfs, and asserts that the
 * process ended (awaited with a bound, never timed) with one line that names where and why.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, RunningCli, sourceYaml, writeConfig } from '../helpers/cli.js';
import { freePort, resetMoto, startMotoServer } from '../helpers/moto.js';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { createBucket, putObjects, cloudTrailFile, trailKey, TRAIL_PREFIX } from '../helpers/s3.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';


const collector = (output: string, state = 'state.db', extra = '') => `state: ${state}\noutput: ${output}\n${extra}`;
const FILE_OUTPUT = '{ type: file, path: events.ndjson }';

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** The line s3pull printed as its error (the log may hold warnings before it). */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((line) => line.startsWith('s3pull: ')) ?? `(no error line in: ${stderr})`;
}

/** Every printed error is one line that is not a stack frame. */
function expectNoStack(text: string): void {
  expect(text, text).to.not.match(/^\s+at .+:\d+:\d+\)?$/m);
}

describe('robustness: nothing hangs, nothing crashes', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
  });

  it('a file_pattern that backtracks catastrophically in JavaScript is matched in linear time: once ends', async () => {
    await putObjects('trail-bucket', [
      { key: `${TRAIL_PREFIX}${'a'.repeat(40)}!`, body: 'x' },
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) },
    ]);
    const dir = writeConfig(collector(FILE_OUTPUT), { 'a.yaml': sourceYaml("file_pattern: '(a+)+$'\n") });
    const result = await runCli(['once', '--config', dir]);
    expect(result.hung, result.stderr).to.equal(false);
    expect(result.code).to.equal(0);
    // Neither key ends in a run of a's: both are skipped by the pattern, none is pulled.
    expect(result.stdout).to.match(/trail\s+ok\s+0\s+0\s+0\s+0\s+2\s/);
  });

  it('an output under /proc, which Node cannot even make a folder in, ends once and test with the path named', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) }]);
    const dir = writeConfig(collector('{ type: file, path: /proc/s3pull-test/events.ndjson }'), { 'a.yaml': sourceYaml() });
    const once = await runCli(['once', '--config', dir]);
    expect(once.hung, once.stderr).to.equal(false);
    expect(once.code).to.equal(1);
    expect(once.stdout).to.contain("trail: cannot write to /proc/s3pull-test/events.ndjson: ENOENT: no such file or directory, mkdir '/proc/s3pull-test'");
    const test = await runCli(['test', 'trail', '--config', dir]);
    expect(test.hung, test.stdout).to.equal(false);
    expect(test.code).to.equal(1);
    expect(test.stdout).to.match(/^FAIL\s+output\s+cannot write to \/proc\/s3pull-test\/events\.ndjson/m);
    const status = JSON.parse((await runCli(['sources', '--json', '--config', dir])).stdout) as { objectsDone: number; partitions: { settledKey: string }[] }[];
    expect(status[0]!.objectsDone).to.equal(0);
    expect(status[0]!.partitions.every((partition) => partition.settledKey === '')).to.equal(true);
  });

  it('SIGTERM ends run within shutdown_timeout even when a write never returns (a FIFO nobody reads on), naming what it abandoned', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 5000) }]);
    const dir = writeConfig(collector('{ type: file, path: events.fifo }', 'state.db', 'shutdown_timeout: 2s\n'), { 'a.yaml': sourceYaml() });
    const fifo = path.join(dir, 'events.fifo');
    execFileSync('mkfifo', [fifo]);
    const service = new RunningCli(['run', '--config', dir]);
    // Read the first bytes, then stop reading: the pipe fills and the next write blocks for good.
    const reader = createReadStream(fifo);
    await new Promise((resolve) => reader.once('data', resolve));
    reader.pause();
    service.child.kill('SIGTERM');
    const code = await service.exitWithin(30_000);
    reader.destroy();
    // Ended by SIGTERM's default action: process.exit() would wait for the stuck write forever.
    expect(code, service.stderr).to.equal('SIGTERM');
    expect(service.stderr).to.match(/shutdown did not finish within 2 s: abandoned what is in flight; the marker stays where delivery stopped .*in_flight=trail:s3:\/\/trail-bucket\/AWSLogs\/.*aaaa\.json\.gz/);
    const status = JSON.parse((await runCli(['sources', '--json', '--config', dir])).stdout) as { objectsDone: number; events: number; partitions: { settledKey: string }[] }[];
    expect(status[0]!.objectsDone).to.equal(0);
    expect(status[0]!.events).to.be.below(5000);
    expect(status[0]!.partitions[0]!.settledKey).to.equal('');
  });

  it('a state file that is not SQLite, or a truncated one, is named with what to do; exit 3, no stack trace', async () => {
    const dir = writeConfig(collector(FILE_OUTPUT), { 'a.yaml': sourceYaml() });
    writeFileSync(path.join(dir, 'state.db'), 'this is not a database '.repeat(100));
    const notSqlite = await runCli(['once', '--config', dir]);
    expect(notSqlite.code).to.equal(3);
    expect(errorLine(notSqlite.stderr)).to.equal(
      `s3pull: state file ${path.join(dir, 'state.db')}: it is not an SQLite database; restore it from a backup, or move it aside to start afresh (everything is then pulled again) (SQLITE_NOTADB: file is not a database)`,
    );

    // A real state file, cut in half (a disk that filled while it was copied, say).
    rmSync(path.join(dir, 'state.db'));
    await putObjects('trail-bucket', Array.from({ length: 30 }, (_, i) => ({ key: trailKey('2026/11/23', `20261123T10${String(i).padStart(2, '0')}Z`, `k${i}`), body: cloudTrailFile(`o${i}`, 1) })));
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    const size = readFileSync(path.join(dir, 'state.db')).length;
    truncateSync(path.join(dir, 'state.db'), Math.floor(size / 2));
    const truncated = await runCli(['sources', '--config', dir]);
    expect(truncated.code).to.equal(3);
    expect(errorLine(truncated.stderr)).to.match(/^s3pull: state file .*state\.db: it is damaged; restore it from a backup, or move it aside/);
    expectNoStack(truncated.stderr);
  });

  it('a state folder that is read-only, or cannot be made, is named with what to do', async () => {
    const readOnly = mountTmpfs(256, 'ro');
    try {
      const dir = writeConfig(collector(FILE_OUTPUT, `${readOnly.dir}/state.db`), { 'a.yaml': sourceYaml() });
      const result = await runCli(['once', '--config', dir]);
      expect(result.code).to.equal(3);
      expect(errorLine(result.stderr)).to.match(new RegExp(`^s3pull: state file ${readOnly.dir}/state\\.db: its folder is on a read-only file system; set state to a writable path`));
    } finally {
      readOnly.unmount();
    }
    const dir = writeConfig(collector(FILE_OUTPUT, '/proc/s3pull-test/state.db'), { 'a.yaml': sourceYaml() });
    const missing = await runCli(['once', '--config', dir]);
    expect(missing.hung).to.equal(false);
    expect(missing.code).to.equal(3);
    expect(errorLine(missing.stderr)).to.equal("s3pull: state file /proc/s3pull-test/state.db: its folder cannot be made here; set state to a path in an existing folder (ENOENT: no such file or directory, mkdir '/proc/s3pull-test')");
  });

  describe('on a disk that fills up', () => {
    let disk: Tmpfs;
    beforeEach(() => {
      disk = mountTmpfs(4096);
    });
    afterEach(() => disk.unmount());

    it('a full state disk during a commit is named as such; nothing is marked, and the next poll goes on', async () => {
      await putObjects('trail-bucket', Array.from({ length: 6 }, (_, i) => ({ key: trailKey('2026/11/23', `20261123T100${i}Z`, `k${i}`), body: cloudTrailFile(`o${i}`, 200) })));
      const dir = writeConfig(collector(FILE_OUTPUT, `${disk.dir}/state.db`, 'log: { level: debug }\n'), { 'a.yaml': sourceYaml('dedup: true\neps_throttle: 400\nconcurrency: 1\n') });
      // The disk fills while the pull runs, after the first object was committed.
      const pull = new RunningCli(['once', '--config', dir]);
      await pull.waitFor(/object done/);
      const filler = path.join(disk.dir, 'filler');
      fillDisk(filler);
      expect(await pull.exitWithin(60_000), pull.stderr).to.equal(1);
      expect(pull.stderr).to.match(new RegExp(`state file ${disk.dir}/state\\.db: the disk that holds it is full; free space there`));
      expect(pull.stderr).to.not.contain('Cannot read properties');
      expectNoStack(pull.stderr);
      rmSync(filler);
      const after = await runCli(['once', '--config', dir]);
      expect(after.code, after.stderr).to.equal(0);
      // Every event arrived; what a failed commit held back is delivered again, nothing is lost.
      const ids = lines(path.join(dir, 'events.ndjson')).map((line) => (JSON.parse(line) as { event: { eventID: string } }).event.eventID);
      expect(new Set(ids).size).to.equal(1200);
    });

    it('the file output on a full disk leaves no torn line; the next write starts on a fresh line', async () => {
      await putObjects('trail-bucket', Array.from({ length: 8 }, (_, i) => ({ key: trailKey('2026/11/23', `20261123T100${i}Z`, `k${i}`), body: cloudTrailFile(`o${i}`, 400) })));
      const dir = writeConfig(collector(`{ type: file, path: ${disk.dir}/events.ndjson }`), { 'a.yaml': sourceYaml('concurrency: 1\n') });
      // Leave room for part of the events only, so that a write is cut in the middle.
      const filler = path.join(disk.dir, 'filler');
      fillDisk(filler, 300 * 1024);
      const full = await runCli(['once', '--config', dir]);
      expect(full.code).to.equal(1);
      expect(full.stdout).to.contain(`cannot write to ${disk.dir}/events.ndjson: ENOSPC`);
      const written = readFileSync(path.join(disk.dir, 'events.ndjson'), 'utf8');
      expect(written === '' || written.endsWith('\n'), 'the file ends on a whole line').to.equal(true);
      rmSync(filler);
      const after = await runCli(['once', '--config', dir]);
      expect(after.code, after.stdout + after.stderr).to.equal(0);
      const all = lines(path.join(disk.dir, 'events.ndjson'));
      for (const line of all) JSON.parse(line);
      expect(new Set(all.map((line) => (JSON.parse(line) as { id: string }).id)).size).to.equal(3200);
    });
  });

  it('a state file deleted while run runs is written back from the open database: a restart delivers nothing again', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 5) }]);
    const dir = writeConfig(collector(FILE_OUTPUT, 'state.db', 'log: { level: debug }\n'), { 'a.yaml': sourceYaml("schedule: '* * * * * *'\n") });
    const service = new RunningCli(['run', '--config', dir]);
    await service.waitFor(/poll finished source=trail status=ok objects=1 /);
    unlinkSync(path.join(dir, 'state.db'));
    await service.waitFor(/ERROR the state file was deleted while s3pull ran: written back from the open database, nothing lost/);
    const from = service.stderr.length;
    await service.waitFor(/poll finished source=trail status=ok objects=0 /, from);
    service.child.kill('SIGTERM');
    expect(await service.exitWithin(30_000)).to.equal(0);
    const again = await runCli(['once', '--config', dir]);
    expect(again.code).to.equal(0);
    expect(lines(path.join(dir, 'events.ndjson'))).to.have.length(5);
  });

  it('a state file replaced while run runs stops the service (exit 3) rather than mixing two states', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 5) }]);
    const dir = writeConfig(collector(FILE_OUTPUT), { 'a.yaml': sourceYaml("schedule: '* * * * * *'\n") });
    const service = new RunningCli(['run', '--config', dir]);
    await service.waitFor(/poll finished source=trail status=ok objects=1 /);
    copyFileSync(path.join(dir, 'state.db'), path.join(dir, 'copy.db'));
    renameSync(path.join(dir, 'copy.db'), path.join(dir, 'state.db'));
    expect(await service.exitWithin(30_000), service.stderr).to.equal(3);
    expect(service.stderr).to.match(/state file .*state\.db was replaced by another file while s3pull ran; s3pull stops rather than mix the two: restart it to use the new file/);
  });

  it('an unreachable STS is named as STS, not as the listing', async () => {
    const port = await freePort();
    const dir = writeConfig(collector(FILE_OUTPUT), {
      'a.yaml': sourceYaml().replace(
        /auth: .*/,
        `auth: { type: assume_role, role_arn: 'arn:aws:iam::111122223333:role/reader', sts_endpoint: 'http://127.0.0.1:${port}', base: { type: access_key, access_key_id: AKIATESTKEY, secret_access_key: s3cr3t-do-not-log-me } }`,
      ),
    });
    const result = await runCli(['once', '--config', dir]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain(`cannot get credentials: STS (sts:AssumeRole of arn:aws:iam::111122223333:role/reader at http://127.0.0.1:${port}) cannot be reached`);
    expect(result.stdout).to.not.match(/list bucket trail-bucket: .*ECONNREFUSED/);
  });

  it('refused keys read as refused keys in s3pull test, as in once, not as a missing s3:ListBucket', async () => {
    // A moto of its own that takes one request without credentials (the bucket), then checks them all.
    const strict = await startMotoServer({ INITIAL_NO_AUTH_ACTION_COUNT: '1' });
    try {
      const s3 = new S3Client({ region: 'us-east-1', endpoint: strict.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
      await s3.send(new CreateBucketCommand({ Bucket: 'trail-bucket' }));
      s3.destroy();
      const dir = writeConfig(collector(FILE_OUTPUT), { 'a.yaml': sourceYaml().replace(/endpoint: .*/, `endpoint: ${strict.endpoint}`) });
      const test = await runCli(['test', 'trail', '--config', dir]);
      expect(test.code).to.equal(1);
      expect(test.stdout).to.match(/^FAIL\s+region\s+list bucket trail-bucket: the credentials were refused \(InvalidAccessKeyId\); check auth in the source/m);
      expect(test.stdout).to.not.contain('s3:ListBucket');
      const once = await runCli(['once', '--config', dir]);
      expect(once.stdout).to.contain('the credentials were refused (InvalidAccessKeyId)');
    } finally {
      await strict.stop();
    }
  });

  it('validate names every bad sources.d entry at once: a folder, an unreadable file, an alias bomb, a huge file, a huge value', async () => {
    const dir = writeConfig(collector(FILE_OUTPUT), {
      'bomb.yaml': 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
      'huge.yaml': `id: huge\nnote: ${'x'.repeat(2 * 1024 * 1024)}\n`,
      'value.yaml': sourceYaml().replace('bucket: trail-bucket', `bucket: ${'B'.repeat(30_000)}`),
      'typo.yaml': sourceYaml('eps_trottle: 5\n').replace('id: trail', 'id: typo'),
      'secret.yaml': sourceYaml().replace('id: trail', 'id: secret'),
    });
    execFileSync('mkdir', [path.join(dir, 'sources.d', 'folder.yaml')]);
    execFileSync('chmod', ['755', dir, path.join(dir, 'sources.d')]);
    execFileSync('chmod', ['600', path.join(dir, 'sources.d', 'secret.yaml')]);
    for (const name of ['bomb.yaml', 'huge.yaml', 'value.yaml', 'typo.yaml', 's3pull.yaml']) execFileSync('chmod', ['644', path.join(dir, name === 's3pull.yaml' ? '' : 'sources.d', name)]);
    // As another user, secret.yaml (0600, root's) cannot be read: EACCES, as for an operator who forgot a chown.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534 } : {};
    const result = await runCli(['validate', '--config', dir], asNobody);
    expect(result.code, result.stderr).to.equal(2);
    const problems = result.stderr.split('\n').slice(1).map((line) => line.trim()).filter(Boolean);
    const at = (name: string) => problems.filter((problem) => problem.includes(`sources.d/${name}`));
    expect(at('bomb.yaml')).to.deep.equal([`${dir}/sources.d/bomb.yaml: invalid YAML: Excessive alias count indicates a resource exhaustion attack`]);
    expect(at('huge.yaml')).to.deep.equal([`${dir}/sources.d/huge.yaml: is larger than 1 MiB; a config file holds a few fields, not data`]);
    expect(at('folder.yaml')).to.deep.equal([`${dir}/sources.d/folder.yaml: is a folder, not a file; sources.d holds one YAML file per source`]);
    expect(at('typo.yaml')).to.deep.equal([`${dir}/sources.d/typo.yaml:9: unknown field eps_trottle (check the spelling; see the configuration reference)`]);
    expect(at('value.yaml')[0]).to.match(/field bucket <B{120}… \(30000 characters\)>: must be a valid S3 bucket name/);
    expect(result.stderr.length).to.be.below(5000);
    if (process.getuid?.() === 0) {
      expect(at('secret.yaml')).to.deep.equal([`${dir}/sources.d/secret.yaml: cannot be read (permission denied); the user s3pull runs as needs read access`]);
    }
  });

  it('validate warns when sources.d is missing or empty, and when the state folder does not exist yet', async () => {
    const empty = writeConfig(collector(FILE_OUTPUT, 'var/state.db'), {});
    const none = await runCli(['validate', '--config', empty]);
    expect(none.code).to.equal(0);
    expect(none.stderr).to.contain(`warning: ${empty}/sources.d: holds no source (*.yaml), so there is nothing to pull`);
    expect(none.stderr).to.contain(`warning: state ${empty}/var/state.db: the folder ${empty}/var does not exist yet`);
    rmSync(path.join(empty, 'sources.d'), { recursive: true });
    const missing = await runCli(['validate', '--config', empty]);
    expect(missing.stderr).to.contain(`warning: ${empty}/sources.d: the folder does not exist, so there is no source to pull`);
  });
});

/** Takes the free space of the disk holding `file`, but `leaveBytes` (all of it by default, even while others write). */
function fillDisk(file: string, leaveBytes = 0): void {
  if (leaveBytes === 0) {
    // Writes until the disk refuses: a size read first could be gone by the time it is taken.
    execFileSync('sh', ['-c', `dd if=/dev/zero of='${file}' bs=4k 2>/dev/null || true`]);
    return;
  }
  const free = Number(execFileSync('df', ['--output=avail', '-B1', path.dirname(file)], { encoding: 'utf8' }).split('\n')[1]!.trim());
  execFileSync('fallocate', ['-l', String(Math.max(0, free - leaveBytes)), file]);
}
