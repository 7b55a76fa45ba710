import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Bucket } from '../../src/aws/s3-bucket.js';

const LISTING = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>trail</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>a.json.gz</Key><LastModified>2026-11-23T10:00:00.000Z</LastModified><ETag>"e"</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>';

/**
 * A stand-in for S3's regional behaviour (moto serves every region from one place): answers as S3
 * does when a request is signed for another region than the bucket's.
 */
async function regionalS3(bucketRegion: string, style: 'redirect' | 'malformed'): Promise<{ url: string; signedRegions: string[]; close(): Promise<void> }> {
  const signedRegions: string[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\//.exec(String(request.headers.authorization))?.[1] ?? '?';
    signedRegions.push(region);
    request.resume();
    if (region === bucketRegion) {
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(LISTING);
    } else if (style === 'redirect') {
      response.writeHead(301, { 'content-type': 'application/xml', 'x-amz-bucket-region': bucketRegion });
      response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>trail.s3.${bucketRegion}.amazonaws.com</Endpoint><Bucket>trail</Bucket></Error>`);
    } else {
      response.writeHead(400, { 'content-type': 'application/xml', 'x-amz-bucket-region': bucketRegion });
      response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '${region}' is wrong; expecting '${bucketRegion}'</Message><Region>${bucketRegion}</Region></Error>`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    signedRegions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function listError(endpoint: string, region: string): Promise<Error | undefined> {
  const bucket = createS3Bucket({ bucket: 'trail', region, endpoint, pathStyle: true, auth: { type: 'access_key', access_key_id: 'AKIATEST', secret_access_key: 'secret' }, requestTimeoutMs: 5000, maxAttempts: 1 });
  try {
    for await (const _page of bucket.listPages('', undefined, new AbortController().signal)) void _page;
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    bucket.destroy();
  }
}

describe('regions', () => {
  it('names both regions on a 301 PermanentRedirect', async () => {
    const s3 = await regionalS3('eu-west-1', 'redirect');
    try {
      const error = await listError(s3.url, 'us-east-1');
      expect(error?.message).to.equal('list: bucket trail is in eu-west-1 but the source says us-east-1; set region: eu-west-1 (or region: auto)');
    } finally {
      await s3.close();
    }
  });

  it('names both regions on a 400 AuthorizationHeaderMalformed', async () => {
    const s3 = await regionalS3('ap-southeast-2', 'malformed');
    try {
      const error = await listError(s3.url, 'us-east-1');
      expect(error?.message).to.equal('list: bucket trail is in ap-southeast-2 but the source says us-east-1; set region: ap-southeast-2 (or region: auto)');
    } finally {
      await s3.close();
    }
  });

  it('region: auto follows S3 to the bucket region and signs for it', async () => {
    const s3 = await regionalS3('eu-central-1', 'redirect');
    try {
      expect(await listError(s3.url, 'auto')).to.equal(undefined);
      expect(s3.signedRegions[0]).to.equal('us-east-1');
      expect(s3.signedRegions.at(-1)).to.equal('eu-central-1');
    } finally {
      await s3.close();
    }
  });

  it('resolves GovCloud, China, FIPS and dual-stack endpoints', async () => {
    const hostFor = async (region: string, extra: { useFipsEndpoint?: boolean; useDualstackEndpoint?: boolean } = {}) => {
      const client = new S3Client({ region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, ...extra });
      // Stop each request just before it is sent, and keep where it would have gone.
      client.middlewareStack.add(
        () => async (args) => {
          throw Object.assign(new Error('captured'), { hostname: (args.request as { hostname: string }).hostname });
        },
        { step: 'finalizeRequest', priority: 'low' },
      );
      try {
        await client.send(new ListObjectsV2Command({ Bucket: 'trail' }));
      } catch (error) {
        return (error as { hostname?: string }).hostname;
      } finally {
        client.destroy();
      }
      return undefined;
    };
    expect(await hostFor('us-gov-west-1')).to.equal('trail.s3.us-gov-west-1.amazonaws.com');
    expect(await hostFor('cn-north-1')).to.equal('trail.s3.cn-north-1.amazonaws.com.cn');
    expect(await hostFor('us-east-1', { useFipsEndpoint: true })).to.equal('trail.s3-fips.us-east-1.amazonaws.com');
    expect(await hostFor('us-east-1', { useDualstackEndpoint: true })).to.equal('trail.s3.dualstack.us-east-1.amazonaws.com');
  });
});
