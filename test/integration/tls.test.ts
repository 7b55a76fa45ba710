import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { harness, type Harness } from '../helpers/harness.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startProxy } from '../helpers/proxy.js';
import { makeTestCa, startHttpsFront, type TestCa } from '../helpers/tls.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource, tempDir } from '../helpers/source.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { loadTrustStore } from '../../src/net/trust.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { silentLogger } from '../../src/log/logger.js';
import { systemClock } from '../../src/util/clock.js';
import type { LoadedSource } from '../../src/config/load.js';

describe('TLS to an S3 endpoint under a private CA', function () {
  this.timeout(60_000);
  let ca: TestCa;
  let front: Awaited<ReturnType<typeof startHttpsFront>>;
  let h: Harness;
  before(async () => {
    ca = makeTestCa();
  });
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'a'), body: cloudTrailFile('a', 2) }]);
    front = await startHttpsFront(ca, motoEndpoint());
    h = harness();
  });
  afterEach(async () => {
    h.close();
    await front.close();
  });

  const pollWith = async (source: LoadedSource, caList: string[] | undefined) => {
    const bucket = createS3Bucket({ ...s3BucketOptionsFor(source, caList), maxAttempts: 1 });
    try {
      return await pollSource(source, { store: h.store, sink: h.sink, bucket, clock: systemClock, log: silentLogger }, new AbortController().signal);
    } finally {
      bucket.destroy();
    }
  };

  it('refuses the endpoint without the CA, and says how to trust it; verification is never off', async () => {
    const result = await pollWith(testSource({ endpoint: front.url }), undefined);
    expect(result.status).to.equal('failed');
    expect(result.errors[0]).to.contain("the server's TLS certificate is not trusted").and.contain('s3pull certs fetch');
    expect(h.sink.lines).to.have.length(0);
  });

  it('accepts it with the CA in certs_dir, PEM or DER', async () => {
    for (const form of ['pem', 'der'] as const) {
      const dir = tempDir('s3pull-certs-');
      const bytes = form === 'pem' ? ca.caPem : new X509Certificate(ca.caPem).raw;
      writeFileSync(path.join(dir, `corp-ca.${form}`), bytes);
      const problems: string[] = [];
      const trust = loadTrustStore(dir, problems);
      expect(problems).to.deep.equal([]);
      expect(trust.extra[0]!.subject).to.equal('CN=s3pull test CA');
      const other = harness();
      const bucket = createS3Bucket({ ...s3BucketOptionsFor(testSource({ endpoint: front.url }), trust.ca), maxAttempts: 1 });
      const result = await pollSource(testSource({ endpoint: front.url }), { store: other.store, sink: other.sink, bucket, clock: systemClock, log: silentLogger }, new AbortController().signal);
      bucket.destroy();
      expect(result.status, form).to.equal('ok');
      expect(other.sink.eventIds()).to.deep.equal(['a-0', 'a-1']);
      other.close();
    }
  });

  it('tunnels HTTPS through the proxy with CONNECT', async () => {
    const proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55' });
    try {
      const source = testSource({ endpoint: front.url, proxy: { url: proxy.url, username: 'collector', password: 'pr0xy-pa55' } });
      const result = await pollWith(source, loadTrustStore(writeCaDir(ca), []).ca);
      expect(result.errors).to.deep.equal([]);
      expect(result.status).to.equal('ok');
      expect(proxy.seen).to.include(`CONNECT 127.0.0.1:${front.port}`);
    } finally {
      await proxy.close();
    }
  });

  it('reaches an HTTPS endpoint through an HTTPS proxy under the same private CA', async () => {
    const proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55', tls: { key: ca.serverKey, cert: ca.serverPem + ca.caPem } });
    try {
      expect(proxy.url).to.match(/^https:/);
      const source = testSource({ endpoint: front.url, proxy: { url: proxy.url, username: 'collector', password: 'pr0xy-pa55' } });
      const result = await pollWith(source, loadTrustStore(writeCaDir(ca), []).ca);
      expect(result.errors).to.deep.equal([]);
      expect(proxy.seen).to.include(`CONNECT 127.0.0.1:${front.port}`);
      expect(h.sink.eventIds()).to.deep.equal(['a-0', 'a-1']);
    } finally {
      await proxy.close();
    }
  });

  it('a file in certs_dir that is not a certificate is a config error naming it', () => {
    const dir = tempDir('s3pull-certs-');
    writeFileSync(path.join(dir, 'broken.pem'), 'hello');
    const problems: string[] = [];
    loadTrustStore(dir, problems);
    expect(problems[0]).to.contain(path.join(dir, 'broken.pem'));
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment changes nothing: the untrusted endpoint is still refused, with a warning', async () => {
    const config = writeConfig(`state: state.db\ncerts_dir: certs\noutput: { type: file, path: events.ndjson }\n`, {
      'a.yaml': `id: trail\nbucket: trail-bucket\nprefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nregion: us-east-1\nendpoint: ${front.url}\npath_style: true\nauth: { type: access_key, access_key_id: AKIATEST, secret_access_key: testsecret }\nformat: cloudtrail\n`,
    });
    const result = await runCli(['once', '--config', config], { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain("the server's TLS certificate is not trusted");
    expect(result.stderr).to.contain('WARN  NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment; s3pull ignores it and verifies every TLS certificate');
  });

  it('certs fetch saves the chain the server presents and prints fingerprints; certs list shows them; the pull then works', async () => {
    const config = writeConfig(`state: state.db\ncerts_dir: certs\noutput: { type: file, path: events.ndjson }\n`, {
      'a.yaml': `id: trail\nbucket: trail-bucket\nprefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nregion: us-east-1\nendpoint: ${front.url}\npath_style: true\nauth: { type: access_key, access_key_id: AKIATEST, secret_access_key: testsecret }\nformat: cloudtrail\n`,
    });
    const before = await runCli(['once', '--config', config]);
    expect(before.code).to.equal(1);
    expect(before.stdout).to.contain('not trusted');

    const fetched = await runCli(['certs', 'fetch', `127.0.0.1:${front.port}`, '--config', config]);
    expect(fetched.code, fetched.stderr).to.equal(0);
    const caFingerprint = new X509Certificate(ca.caPem).fingerprint256;
    expect(fetched.stdout).to.contain('CN=localhost').and.contain('CN=s3pull test CA').and.contain(caFingerprint);
    const saved = readFileSync(path.join(config, 'certs', `127.0.0.1_${front.port}.pem`), 'utf8');
    expect(saved.match(/BEGIN CERTIFICATE/g)).to.have.length(2);

    const listed = await runCli(['certs', 'list', '--config', config]);
    expect(listed.stdout).to.contain(caFingerprint);
    const after = await runCli(['once', '--config', config]);
    expect(after.code, after.stdout + after.stderr).to.equal(0);
  });
});

function writeCaDir(ca: TestCa): string {
  const dir = tempDir('s3pull-certs-');
  writeFileSync(path.join(dir, 'ca.pem'), ca.caPem);
  return dir;
}
