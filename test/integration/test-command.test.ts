import { expect } from 'chai';
import { runCli, writeConfig } from '../helpers/cli.js';
import { freePort, motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startHttpReceiver } from '../helpers/http-receiver.js';
import { startProxy } from '../helpers/proxy.js';
import { makeTestCa, startHttpsFront } from '../helpers/tls.js';
import { createBucket, putObjects, cloudTrailFile, trailKey, TRAIL_PREFIX } from '../helpers/s3.js';
import { X509Certificate } from 'node:crypto';

const COLLECTOR = 'state: state.db\noutput: { type: file, path: events.ndjson }\n';
const source = (extra = '', endpoint = motoEndpoint()) => `id: trail
bucket: trail-bucket
prefix: ${TRAIL_PREFIX}
region: us-east-1
endpoint: ${endpoint}
path_style: true
auth: { type: access_key, access_key_id: AKIATESTKEY1, secret_access_key: test-secret-value }
format: cloudtrail
file_pattern: '.*\\.json\\.gz$'
${extra}`;

describe('s3pull test SOURCE', function () {
  this.timeout(60_000);
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 3) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'empty'), body: Buffer.alloc(0) },
      { key: `${TRAIL_PREFIX}notes.txt`, body: 'x' },
    ]);
  });

  it('passes every step on a working source and prints one event as it would be delivered', async () => {
    const result = await runCli(['test', 'trail', '--config', writeConfig(COLLECTOR, { 'a.yaml': source() })]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^ok\s+credentials\s+access_key: key AKIA…KEY1 is arn:aws:sts::\d{12}:user\/moto/m);
    expect(result.stdout).to.match(/^ok\s+region\s+bucket trail-bucket exists/m);
    expect(result.stdout).to.match(/^ok\s+partitions\s+1 partition\(s\), each with its own marker:\n\s+AWSLogs\/111122223333\/CloudTrail\/us-east-1\/$/m);
    expect(result.stdout).to.match(/^ok\s+list\s+.*: 3 object\(s\), 1 to pull \(skipped: 1 empty, 1 pattern\)/m);
    expect(result.stdout).to.match(/^ok\s+read\s+.*aaaa\.json\.gz: 3 event\(s\)/m);
    expect(result.stdout).to.match(/^ok\s+output\s+file .*events\.ndjson: writable/m);
    expect(result.stdout).to.contain('"eventID":"a-0"').and.contain('trail: all checks passed');
    expect(result.stdout + result.stderr).to.not.contain('test-secret-value');
  });

  it('names a missing bucket and stops there', async () => {
    const result = await runCli(['test', 'trail', '--config', writeConfig(COLLECTOR, { 'a.yaml': source().replace('bucket: trail-bucket', 'bucket: no-such-bucket') })]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/^FAIL\s+region\s+head bucket no-such-bucket: the bucket does not exist/m);
    expect(result.stdout).to.not.match(/^\w+\s+list/m);
  });

  it('says when nothing under the prefix matches the file pattern', async () => {
    const result = await runCli(['test', 'trail', '--config', writeConfig(COLLECTOR, { 'a.yaml': source().replace(/file_pattern: .*/, () => "file_pattern: '\\.log$'") })]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/^FAIL\s+list\s+.*nothing matches file_pattern \\\.log\$ under the prefix/m);
  });

  it('names the proxy when the proxy refuses the password', async () => {
    const proxy = await startProxy({ username: 'collector', password: 'right' });
    try {
      const config = writeConfig(COLLECTOR, { 'a.yaml': source(`proxy: { url: "${proxy.url}", username: collector, password: wrong-proxy-pass }\n`) });
      const result = await runCli(['test', 'trail', '--config', config]);
      expect(result.code).to.equal(1);
      expect(result.stdout).to.contain(`the proxy 127.0.0.1:${proxy.port} refused the credentials (HTTP 407`);
      expect(result.stdout).to.not.contain('wrong-proxy-pass');
    } finally {
      await proxy.close();
    }
  });

  it('names an untrusted certificate with its fingerprint and the command that trusts it', async () => {
    const ca = makeTestCa();
    const front = await startHttpsFront(ca, motoEndpoint());
    try {
      const result = await runCli(['test', 'trail', '--config', writeConfig(COLLECTOR, { 'a.yaml': source('', front.url) })]);
      expect(result.code).to.equal(1);
      expect(result.stdout).to.contain("TLS certificate is not trusted");
      expect(result.stdout).to.contain(new X509Certificate(ca.caPem).fingerprint256);
      expect(result.stdout).to.contain(`s3pull certs fetch 127.0.0.1:${front.port}`);
    } finally {
      await front.close();
    }
  });

  it('checks the output too: a Splunk HEC that refuses the token, and a syslog receiver that is not there', async () => {
    const receiver = await startHttpReceiver();
    try {
      receiver.answer = (request) =>
        request.headers.authorization === 'Splunk right-token' ? { status: 400, body: { text: 'No data', code: 5 } } : { status: 401, body: { text: 'Invalid token', code: 4 } };
      const hec = (token: string) => `state: state.db\noutput: { type: http, url: "${receiver.url}", shape: splunk_hec, auth: { type: splunk, token: ${token} } }\n`;
      const refused = await runCli(['test', 'trail', '--config', writeConfig(hec('wrong-token'), { 'a.yaml': source() })]);
      expect(refused.code).to.equal(1);
      expect(refused.stdout).to.match(/^FAIL\s+output\s+http http:\/\/127\.0\.0\.1:\d+\/services\/collector\/event \(splunk_hec\): the receiver refused the credentials \(HTTP 401: .*Invalid token/m);
      expect(refused.stdout + refused.stderr).to.not.contain('wrong-token');
      const taken = await runCli(['test', 'trail', '--config', writeConfig(hec('right-token'), { 'a.yaml': source() })]);
      expect(taken.code, taken.stdout).to.equal(0);
      expect(taken.stdout).to.match(/^ok\s+output\s+.*HEC took the token \(.*No data/m);
      expect(receiver.requests.every((request) => request.body === '')).to.equal(true);
    } finally {
      await receiver.close();
    }

    const port = await freePort();
    const down = await runCli(['test', 'trail', '--config', writeConfig(`state: state.db\noutput: { type: syslog, host: 127.0.0.1, port: ${port} }\n`, { 'a.yaml': source() })]);
    expect(down.code).to.equal(1);
    expect(down.stdout).to.match(new RegExp(`^FAIL\\s+output\\s+syslog tcp://127\\.0\\.0\\.1:${port} \\(rfc5424\\): connect ECONNREFUSED`, 'm'));
  });
});
