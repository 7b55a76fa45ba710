import { expect } from 'chai';
import { signatureV2, stringToSignV2, SigV2Signer } from '../../src/aws/sigv2.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** The worked examples of the S3 REST authentication specification (signature version 2). */
const EXAMPLES = [
  { name: 'object GET', method: 'GET', path: '/awsexamplebucket1/photos/puppy.jpg', query: {}, headers: { Date: 'Tue, 27 Mar 2007 19:36:42 +0000' }, signature: 'qgk2+6Sv9/oM7G3qLEjTH1a1l1g=' },
  { name: 'object PUT', method: 'PUT', path: '/awsexamplebucket1/photos/puppy.jpg', query: {}, headers: { 'Content-Type': 'image/jpeg', 'Content-Length': '94328', Date: 'Tue, 27 Mar 2007 21:15:45 +0000' }, signature: 'iqRzw+ileNPu1fhspnRs8nOjjIA=' },
  { name: 'list', method: 'GET', path: '/awsexamplebucket1/', query: { prefix: 'photos', 'max-keys': '50', marker: 'puppy' }, headers: { 'User-Agent': 'Mozilla/5.0', Date: 'Tue, 27 Mar 2007 19:42:41 +0000' }, signature: 'm0WP8eCtspQl5Ahe6L1SozdX9YA=' },
  { name: 'fetch ACL (a sub-resource)', method: 'GET', path: '/awsexamplebucket1/', query: { acl: null }, headers: { Date: 'Tue, 27 Mar 2007 19:44:46 +0000' }, signature: '82ZHiFIjc+WbcwFKGUVEQspPn+0=' },
  {
    name: 'upload with x-amz headers, repeated and mixed case',
    method: 'PUT',
    path: '/static.example.com/db-backup.dat.gz',
    query: {},
    headers: {
      'User-Agent': 'curl/7.15.5',
      Date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      'x-amz-acl': 'public-read',
      'content-type': 'application/x-download',
      'Content-MD5': '4gJE4saaMU4BqNR0kLY+lw==',
      'X-Amz-Meta-ReviewedBy': ['joe@example.com', 'jane@example.com'],
      'X-Amz-Meta-FileChecksum': '0x02661779',
      'X-Amz-Meta-ChecksumAlgorithm': 'crc32',
      'Content-Disposition': 'attachment; filename=database.dat',
      'Content-Encoding': 'gzip',
      'Content-Length': '5913339',
    },
    signature: 'jtBQa0Aq+DkULFI8qrpwIjGEx0E=',
  },
  { name: 'list all buckets', method: 'GET', path: '/', query: {}, headers: { Date: 'Wed, 28 Mar 2007 01:29:59 +0000' }, signature: 'qGdzdERIC03wnaRNKh6OqZehG9s=' },
];

describe('SigV2 (header form)', () => {
  for (const example of EXAMPLES) {
    it(`signs the published example: ${example.name}`, () => {
      expect(signatureV2(SECRET, stringToSignV2(example))).to.equal(example.signature);
    });
  }

  it('builds the StringToSign of the spec: verb, MD5, type, date, amz headers, resource', () => {
    expect(stringToSignV2(EXAMPLES[4]!)).to.equal(
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
        'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
        'x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz',
    );
  });

  it('leaves the Date position empty when x-amz-date is sent', () => {
    const text = stringToSignV2({ method: 'DELETE', path: '/b/k', query: {}, headers: { Date: 'ignored', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' } });
    expect(text).to.equal('DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/b/k');
  });

  it('the SDK signer adds Date, the session token and the AWS Authorization header; the bucket joins the resource for virtual hosts', async () => {
    const signer = new SigV2Signer({ pathStyle: false, bucket: 'awsexamplebucket1', now: () => new Date('2007-03-27T19:36:42Z') });
    const request = { method: 'GET', protocol: 'https:', hostname: 'awsexamplebucket1.s3.amazonaws.com', path: '/photos/puppy.jpg', query: {}, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
    const signed = await signer.sign(request as never, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET });
    expect(signed.headers.date).to.equal('Tue, 27 Mar 2007 19:36:42 GMT');
    expect(signed.headers['x-amz-content-sha256']).to.equal(undefined);
    const expected = signatureV2(SECRET, 'GET\n\n\nTue, 27 Mar 2007 19:36:42 GMT\n/awsexamplebucket1/photos/puppy.jpg');
    expect(signed.headers.authorization).to.equal(`AWS AKIAIOSFODNN7EXAMPLE:${expected}`);

    const withToken = await signer.sign({ ...request, headers: {} } as never, { accessKeyId: 'ASIA1', secretAccessKey: SECRET, sessionToken: 'tok' });
    expect(withToken.headers['x-amz-security-token']).to.equal('tok');
  });
});
