import { expect } from 'chai';
import { createServer } from 'node:http';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { credentialsFor } from '../../src/aws/credentials.js';
import { signatureV2, stringToSignV2 } from '../../src/aws/sigv2.js';
import { harness, type Harness } from '../helpers/harness.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startForwarder, type Forwarder } from '../helpers/forwarder.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';

const ENV_KEYS = ['AWS_EC2_METADATA_SERVICE_ENDPOINT', 'AWS_EC2_METADATA_V1_DISABLED', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];

describe('credentials: instance role, ECS task role, assume role', () => {
  let h: Harness;
  let forwarder: Forwarder | undefined;
  const savedEnv: Record<string, string | undefined> = {};
  beforeEach(async () => {
    for (const key of ENV_KEYS) {
      savedEnv[key] = process.env[key];
      delete process.env[key];
    }
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', ['a', 'b', 'c', 'd', 'e'].map((name) => ({ key: trailKey('2026/11/23', '20261123T1000Z', name), body: cloudTrailFile(name, 1) })));
    h = harness();
  });
  afterEach(async () => {
    h.close();
    await forwarder?.close();
    forwarder = undefined;
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  it('instance_role reads the EC2 instance metadata service with an IMDSv2 token, once for a whole poll', async () => {
    forwarder = await startForwarder(motoEndpoint());
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = forwarder.url;
    process.env.AWS_EC2_METADATA_V1_DISABLED = 'true';
    const identity = await credentialsFor({ type: 'instance_role' }, 'us-east-1')();
    expect(identity).to.include({ accessKeyId: 'test-key', secretAccessKey: 'test-secret-key', sessionToken: 'test-session-token' });
    expect(forwarder.requests[0]).to.include({ method: 'PUT', path: '/latest/api/token' });
    expect(forwarder.requests.slice(1).every((r) => r.headers['x-aws-ec2-metadata-token'] === 'fake-imdsv2-token')).to.equal(true);

    forwarder.requests.length = 0;
    const result = await h.poll(testSource({ auth: { type: 'instance_role' } }));
    expect(result.objectsDone).to.equal(5);
    // Credentials are cached by the client: one resolution (token, role name, credentials) for five objects.
    expect(forwarder.requests.filter((r) => r.path === '/latest/api/token')).to.have.length(1);
  });

  it('instance_role inside ECS uses the container credentials endpoint', async () => {
    let asked = 0;
    const server = createServer((_request, response) => {
      asked += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ AccessKeyId: 'ASIAECSTASK', SecretAccessKey: 'ecs-secret', Token: 'ecs-token', Expiration: new Date(Date.now() + 3_600_000).toISOString() }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/creds`;
    try {
      const identity = await credentialsFor({ type: 'instance_role' }, 'us-east-1')();
      expect(identity).to.include({ accessKeyId: 'ASIAECSTASK', sessionToken: 'ecs-token' });
      expect(asked).to.equal(1);
    } finally {
      server.close();
    }
  });

  it('assume_role calls sts:AssumeRole with the external id over base keys, and S3 sees the role session', async () => {
    forwarder = await startForwarder(motoEndpoint());
    const auth = {
      type: 'assume_role' as const,
      role_arn: 'arn:aws:iam::123456789012:role/s3pull-reader',
      external_id: 'acme-siem-7',
      session_name: 's3pull',
      duration: 900_000,
      sts_endpoint: forwarder.url,
      base: { type: 'access_key' as const, access_key_id: 'AKIABASEKEY', secret_access_key: 'base-secret' },
    };
    const identity = await credentialsFor(auth, 'us-east-1')();
    expect(identity.accessKeyId).to.match(/^ASIA/);
    expect(identity.sessionToken).to.be.a('string');
    expect(identity.expiration).to.be.instanceOf(Date);
    const assume = forwarder.requests.find((r) => r.body.includes('Action=AssumeRole'))!;
    expect(assume.body).to.contain('ExternalId=acme-siem-7').and.contain('RoleSessionName=s3pull').and.contain('DurationSeconds=900');
    expect(String(assume.headers.authorization)).to.contain('Credential=AKIABASEKEY/');

    const sts = new STSClient({ region: 'us-east-1', endpoint: motoEndpoint(), credentials: identity });
    const caller = await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    expect(caller.Arn).to.equal('arn:aws:sts::123456789012:assumed-role/s3pull-reader/s3pull');

    forwarder.requests.length = 0;
    const result = await h.poll(testSource({ auth: { ...auth, duration: '15m' } }));
    expect(result.objectsDone).to.equal(5);
    expect(forwarder.requests.filter((r) => r.body.includes('Action=AssumeRole'))).to.have.length(1);
  });
});

describe('signature_version: v2', () => {
  let forwarder: Forwarder;
  let h: Harness;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', ['a', 'b'].map((name) => ({ key: trailKey('2026/11/23', '20261123T1000Z', name), body: cloudTrailFile(name, 1) })));
    forwarder = await startForwarder(motoEndpoint());
    h = harness();
  });
  afterEach(async () => {
    h.close();
    await forwarder.close();
  });

  it('pulls with v2 signatures that verify against the requests as they arrive on the wire', async () => {
    const result = await h.poll(testSource({ endpoint: forwarder.url, signature_version: 'v2', auth: { type: 'access_key', access_key_id: 'AKIAV2TEST', secret_access_key: 'v2-secret-key' } }));
    expect(result.status).to.equal('ok');
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0']);
    // Partition discovery (the prefix, then the newest year's months and days), the listing, two objects.
    expect(forwarder.requests).to.have.length(6);
    for (const request of forwarder.requests) {
      const url = new URL(request.path, 'http://wire');
      const query = Object.fromEntries([...url.searchParams.entries()]);
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, value as string]));
      const expected = signatureV2('v2-secret-key', stringToSignV2({ method: request.method, path: url.pathname, query, headers }));
      expect(request.headers.authorization).to.equal(`AWS AKIAV2TEST:${expected}`);
      expect(request.headers['x-amz-content-sha256']).to.equal(undefined);
    }
  });
});
