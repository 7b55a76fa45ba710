/**
 * `s3pull verify` on moto (issue 14, item 1 in part): a trail's digests, written and signed as
 * CloudTrail does, checked against what `once` delivered with cloudtrail.digests: verify.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runCli, sourceYaml, writeConfig } from '../helpers/cli.js';
import { resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, deleteObject, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testKey, writeDigest, type WrittenDigest } from '../helpers/digests.js';
import { startCloudTrailStub } from '../helpers/cloudtrail-stub.js';

const COLLECTOR = 'state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: info }\n';
const VERIFYING = 'cloudtrail: { digests: verify, public_key_file: cloudtrail-keys.txt }\n';
const at = (hour: number) => new Date(Date.UTC(2026, 10, 23, hour, 0, 0));
const key = testKey();

function configWithKey(keyText: string): string {
  const dir = writeConfig(COLLECTOR, { 'trail.yaml': sourceYaml(VERIFYING) });
  writeFileSync(path.join(dir, 'cloudtrail-keys.txt'), keyText);
  return dir;
}

const signedPut = (digest: WrittenDigest) => ({ key: digest.key, body: digest.body, metadata: { signature: digest.signature, 'signature-algorithm': 'SHA256withRSA' } });

describe('s3pull verify', function () {
  this.timeout(120_000);
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
  });

  it('a complete hour verifies: every listed file delivered with the hash CloudTrail recorded, the digest signed (exit 0)', async () => {
    const a = trailKey('2026/11/23', '20261123T1005Z', 'a');
    const body = cloudTrailFile('a', 3);
    const digest = writeDigest({ bucket: 'trail-bucket', start: at(10), end: at(11), key, logFiles: [{ bucket: 'trail-bucket', key: a, content: gunzipSync(body) }] });
    await putObjects('trail-bucket', [{ key: a, body }, signedPut(digest)]);
    const dir = configWithKey(`# CloudTrail's key, as list-public-keys prints it\n${key.der.toString('base64')}\n`);
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    const result = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
    expect(result.stderr).to.not.contain('digest_finding');
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/digests checked\s+1\n/).and.match(/log files listed\s+1\n/).and.match(/log files delivered\s+1\n/);
    expect(result.stdout).to.contain('all listed log files were delivered as CloudTrail wrote them; the digests are chained and signed');
  });

  it('names a listed file never delivered, a file altered after CloudTrail wrote it, and a deleted digest (exit 1); another key fails every signature', async () => {
    const a = trailKey('2026/11/23', '20261123T1005Z', 'a');
    const b = trailKey('2026/11/23', '20261123T1105Z', 'b');
    const never = trailKey('2026/11/23', '20261123T1110Z', 'never');
    const original = cloudTrailFile('b', 2);
    const digests: WrittenDigest[] = [];
    digests.push(writeDigest({ bucket: 'trail-bucket', start: at(10), end: at(11), key, logFiles: [{ bucket: 'trail-bucket', key: a, content: gunzipSync(cloudTrailFile('a', 2)) }] }));
    digests.push(writeDigest({ bucket: 'trail-bucket', start: at(11), end: at(12), key, previous: digests[0], logFiles: [{ bucket: 'trail-bucket', key: b, content: gunzipSync(original) }, { bucket: 'trail-bucket', key: never, content: '{"Records":[]}' }] }));
    digests.push(writeDigest({ bucket: 'trail-bucket', start: at(12), end: at(13), key, previous: digests[1], logFiles: [] }));
    // b is altered after CloudTrail hashed it: one record more.
    const altered = gzipSync(gunzipSync(original).toString('utf8').replace(']}', ',{"eventID":"injected","eventTime":"2026-11-23T11:06:00Z"}]}'));
    await putObjects('trail-bucket', [{ key: a, body: cloudTrailFile('a', 2) }, { key: b, body: altered }, ...digests.map(signedPut)]);
    const dir = configWithKey(key.publicKey.export({ format: 'pem', type: 'spki' }) as string);
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);

    const result = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/digests checked\s+3\n/).and.match(/log files listed\s+3\n/).and.match(/log files delivered\s+2\n/).and.match(/not delivered\s+1\n/).and.match(/hash mismatches\s+1\n/).and.match(/chain gaps\s+0\n/).and.match(/bad signatures\s+0\n/);
    expect(result.stdout).to.contain(`not delivered: trail-bucket/${never}`);
    expect(result.stdout).to.contain(`HASH MISMATCH: trail-bucket/${b}: delivered bytes have SHA-256`);
    expect(result.stderr).to.contain('event=digest_finding').and.contain('CloudTrail digest check failed');

    await deleteObject('trail-bucket', digests[1]!.key);
    const gap = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
    expect(gap.code).to.equal(1);
    expect(gap.stdout).to.match(/chain gaps\s+1\n/);
    expect(gap.stdout).to.contain(`CHAIN GAP 2026-11-23T11:00:00Z – 2026-11-23T12:00:00Z: ${digests[2]!.key}: its previous digest trail-bucket/${digests[1]!.key} is missing`);

    writeFileSync(path.join(dir, 'cloudtrail-keys.txt'), testKey().der.toString('base64'));
    const forged = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
    expect(forged.code).to.equal(1);
    expect(forged.stdout).to.match(/bad signatures\s+2\n/).and.contain('BAD SIGNATURE');
  });

  it('a log file that arrives after the marker passed its place is pulled by the next poll because a digest lists it, and counted as recovered', async () => {
    // An hour of two hours ago: the poll looks at the digests of the last two days.
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000);
    const day = hour.toISOString().slice(0, 10).replaceAll('-', '/');
    const stamp = (minutes: number) => new Date(hour.getTime() + minutes * 60_000).toISOString().slice(0, 16).replace(/[-:]/g, '') + 'Z';
    const a = trailKey(day, stamp(0), 'a');
    const late = trailKey(day, stamp(5), 'late');
    const c = trailKey(day, stamp(10), 'c');
    await putObjects('trail-bucket', [{ key: a, body: cloudTrailFile('a', 1) }, { key: c, body: cloudTrailFile('c', 1) }]);
    const dir = writeConfig(COLLECTOR, { 'trail.yaml': sourceYaml(`late_window: 0s\n${VERIFYING}`) });
    writeFileSync(path.join(dir, 'cloudtrail-keys.txt'), key.der.toString('base64'));
    const first = await runCli(['once', '--config', dir]);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    const marker = await runCli(['marker', 'show', 'trail', '--config', dir]);
    expect(marker.stdout).to.contain(c);

    // The late file lands behind the marker; the hour's digest lists all three.
    const lateBody = cloudTrailFile('late', 2);
    const digest = writeDigest({ bucket: 'trail-bucket', start: hour, end: new Date(hour.getTime() + 3_600_000), key, logFiles: [a, late, c].map((name) => ({ bucket: 'trail-bucket', key: name, content: gunzipSync(name === late ? lateBody : cloudTrailFile(name === a ? 'a' : 'c', 1)) })) });
    await putObjects('trail-bucket', [{ key: late, body: lateBody }, signedPut(digest)]);
    const second = await runCli(['once', '--config', dir]);
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    expect(second.stdout).to.contain('trail: 1 log file(s) recovered: a CloudTrail digest listed them after the marker had passed them');
    expect(second.stderr).to.contain('event=object_recovered');
    const delivered = readFileSync(path.join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).event.eventID as string);
    expect(delivered.filter((id) => id.startsWith('late-')).sort()).to.deep.equal(['late-0', 'late-1']);
    const verified = await runCli(['verify', 'trail', '--config', dir]);
    expect(verified.code, verified.stdout).to.equal(0);
    expect(verified.stdout).to.match(/log files delivered\s+3\n/);
    const status = await runCli(['sources', '--config', dir]);
    expect(status.stdout).to.match(/trail: digests \(2 days\): 1 checked .*, 1 file\(s\) recovered, no problem/);
    const json = JSON.parse((await runCli(['sources', '--json', '--config', dir])).stdout) as { digests: { checked: number; recovered: number; problems: Record<string, number> } }[];
    expect(json[0]!.digests).to.include({ checked: 1, recovered: 1 });
    expect(json[0]!.digests.problems).to.deep.equal({});
    // A third poll finds nothing more to recover and delivers nothing twice.
    const third = await runCli(['once', '--config', dir]);
    expect(third.stdout).to.not.contain('recovered');
    expect(readFileSync(path.join(dir, 'events.ndjson'), 'utf8').trim().split('\n')).to.have.length(4);
  });

  it('refuses a source that does not verify digests, a key file without a key, and a date that is not one (exit 2)', async () => {
    const plain = writeConfig(COLLECTOR, { 'trail.yaml': sourceYaml() });
    const notVerifying = await runCli(['verify', 'trail', '--config', plain]);
    expect(notVerifying.code).to.equal(2);
    expect(notVerifying.stderr).to.contain('s3pull verify: trail does not verify digests: it needs format: cloudtrail and cloudtrail.digests: verify');
    const empty = configWithKey('# nothing here\n');
    const noKey = await runCli(['verify', 'trail', '--config', empty]);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.match(/cloudtrail\.public_key_file: .*cloudtrail-keys\.txt: holds no public key/);
    const badDate = await runCli(['verify', 'trail', '--since', 'last tuesday', '--config', empty]);
    expect(badDate.code).to.equal(2);
    expect(badDate.stderr).to.contain('--since last tuesday is not a date');
    const badEndpoint = await runCli(['validate', '--config', writeConfig(COLLECTOR, { 'trail.yaml': sourceYaml('cloudtrail: { digests: verify, endpoint: not a url }\n') })]);
    expect(badEndpoint.code).to.equal(2);
    expect(badEndpoint.stderr).to.contain('cloudtrail.endpoint');
  });

  it('without a key file, takes the public keys from cloudtrail:ListPublicKeys (signed, over the span and a day before), and says what to do when it is refused', async () => {
    const stub = await startCloudTrailStub([testKey(), key]);
    try {
      const a = trailKey('2026/11/23', '20261123T1005Z', 'a');
      const body = cloudTrailFile('a', 1);
      const digest = writeDigest({ bucket: 'trail-bucket', start: at(10), end: at(11), key, logFiles: [{ bucket: 'trail-bucket', key: a, content: gunzipSync(body) }] });
      await putObjects('trail-bucket', [{ key: a, body }, signedPut(digest)]);
      const dir = writeConfig(COLLECTOR, { 'trail.yaml': sourceYaml(`cloudtrail: { digests: verify, endpoint: '${stub.url}' }\n`) });
      expect((await runCli(['once', '--config', dir])).code).to.equal(0);
      // The poll's own digest check asked for the keys too.
      expect(stub.requests.length).to.be.greaterThan(0);
      stub.requests.length = 0;
      const result = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(stub.requests).to.have.length(1);
      expect(stub.requests[0]!.target).to.equal('CloudTrail_20131101.ListPublicKeys');
      expect(stub.requests[0]!.authorization).to.contain('Credential=AKIATESTKEY/');
      expect(stub.requests[0]!.body['StartTime']).to.equal(Date.parse('2026-11-22T00:00:00Z') / 1000);
      stub.failWith = { status: 400, type: 'AccessDeniedException', message: 'User is not authorized to perform: cloudtrail:ListPublicKeys' };
      const refused = await runCli(['verify', 'trail', '--since', '2026-11-23', '--config', dir]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.contain('s3pull verify: cloudtrail:ListPublicKeys failed (').and.contain('not authorized').and.contain('or give the keys in cloudtrail.public_key_file');
      expect(refused.stderr).to.not.contain('s3cr3t-do-not-log-me').and.not.contain('    at ');
    } finally {
      await stub.close();
    }
  });
});
