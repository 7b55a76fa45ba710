import { expect } from 'chai';
import { harness, type Harness } from '../helpers/harness.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { agentsFor, noProxyMatcher } from '../../src/net/proxy.js';

describe('through a proxy', () => {
  let h: Harness;
  let proxy: TestProxy | undefined;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', ['a', 'b'].map((name) => ({ key: trailKey('2026/11/23', '20261123T1000Z', name), body: cloudTrailFile(name, 1) })));
    h = harness();
  });
  afterEach(async () => {
    h.close();
    await proxy?.close();
    proxy = undefined;
  });

  const withProxy = (extra: Record<string, unknown> = {}) => testSource({ proxy: { url: proxy!.url, username: 'collector', password: 'pr0xy-pa55', ...extra } });

  it('sends every S3 request through the proxy, with basic auth', async () => {
    proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55' });
    const result = await h.poll(withProxy());
    expect(result.errors).to.deep.equal([]);
    expect(result.status).to.equal('ok');
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0']);
    const host = new URL(motoEndpoint()).host;
    // Partition discovery (three levels), the listing, two objects.
    expect(proxy.seen.filter((line) => line.startsWith(`GET http://${host}/trail-bucket`))).to.have.length(6);
    expect(proxy.refusedAuth).to.equal(0);
  });

  it('reports a wrong proxy password as a proxy authentication failure (407), not as an S3 error', async () => {
    proxy = await startProxy({ username: 'collector', password: 'the-right-one' });
    const result = await h.poll(withProxy());
    expect(result.status).to.equal('failed');
    expect(result.errors[0]).to.contain(`the proxy 127.0.0.1:${proxy.port} refused the credentials (HTTP 407 Proxy Authentication Required)`);
    expect(result.errors.join('\n')).to.not.contain('pr0xy-pa55');
    expect(h.sink.lines).to.have.length(0);
  });

  it('says so when the proxy is down, keeps the marker, and recovers by itself when it is back', async () => {
    proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55' });
    const port = proxy.port;
    await proxy.close();
    const source = withProxy();
    const down = await h.poll(source);
    expect(down.status).to.equal('failed');
    expect(down.errors[0]).to.contain(`cannot reach the proxy 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(h.store.partitions('trail').filter((partition) => partition.settledKey !== '')).to.deep.equal([]);

    proxy = await startProxy({ username: 'collector', password: 'pr0xy-pa55', port });
    const back = await h.poll(source);
    expect(back.status).to.equal('ok');
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0']);
  });

  it('goes direct for hosts in no_proxy, and for proxy: none', async () => {
    proxy = await startProxy();
    await h.poll(withProxy({ no_proxy: ['127.0.0.1'] }));
    expect(h.sink.lines).to.have.length(2);
    expect(proxy.seen).to.deep.equal([]);
    const direct = harness();
    await direct.poll(testSource({ proxy: 'none' }));
    expect(direct.sink.lines).to.have.length(2);
    direct.close();
  });

  it('falls back to the NO_PROXY environment variable when the config lists no hosts', () => {
    const proxyConfig = { url: 'http://proxy.corp.example:3128' };
    expect(agentsFor(proxyConfig, new URL('https://minio.corp:9000'), undefined, { NO_PROXY: 'localhost,minio.corp' }).proxied).to.equal(false);
    expect(agentsFor(proxyConfig, new URL('https://s3.us-east-1.amazonaws.com'), undefined, { NO_PROXY: 'localhost,minio.corp' }).proxied).to.equal(true);
    expect(agentsFor({ ...proxyConfig, no_proxy: ['other'] }, new URL('https://minio.corp:9000'), undefined, { NO_PROXY: 'minio.corp' }).proxied).to.equal(true);
  });

  it('no_proxy matches hosts, domain suffixes, ports and *', () => {
    const match = noProxyMatcher(['.internal.example', 'minio.corp:9000', '10.0.0.5']);
    expect(match(new URL('https://s3.internal.example/x'))).to.equal(true);
    expect(match(new URL('https://internal.example/x'))).to.equal(true);
    expect(match(new URL('http://minio.corp:9000/'))).to.equal(true);
    expect(match(new URL('http://minio.corp:9001/'))).to.equal(false);
    expect(match(new URL('https://10.0.0.5/'))).to.equal(true);
    expect(match(new URL('https://s3.amazonaws.com/'))).to.equal(false);
    expect(noProxyMatcher(['*'])(new URL('https://s3.amazonaws.com/'))).to.equal(true);
  });
});
