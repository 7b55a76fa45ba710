import { expect } from 'chai';
import { classifyS3Error } from '../../src/aws/classify.js';
import { S3PullError } from '../../src/util/errors.js';

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('what S3 errors mean to an operator', () => {
  const context = { bucket: 'acme-trail', key: 'AWSLogs/x.json.gz', region: 'us-east-1' };

  it('access denied names the permission: s3:ListBucket for a listing, s3:GetObject and kms:Decrypt for an object', () => {
    const list = classifyS3Error(sdkError('AccessDenied', 403), 'list', { bucket: 'acme-trail' }) as S3PullError;
    expect(list.message).to.contain('the credentials need s3:ListBucket on the bucket');
    expect(list.retryable).to.equal(false);
    const get = classifyS3Error(sdkError('AccessDenied', 403), 'get', context) as S3PullError;
    expect(get.message).to.contain('s3:GetObject on the key (and kms:Decrypt if the object is SSE-KMS encrypted)');
  });

  it('throttling, 5xx and broken connections are transient, never the object\'s fault', () => {
    for (const error of [sdkError('SlowDown', 503), sdkError('InternalError', 500), Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })]) {
      expect((classifyS3Error(error, 'get', context) as S3PullError).retryable).to.equal(true);
    }
  });

  it('clock skew, bad credentials and a missing bucket say what to fix', () => {
    expect((classifyS3Error(sdkError('RequestTimeTooSkewed', 403), 'list', context) as Error).message).to.contain('fix the time (NTP)');
    expect((classifyS3Error(sdkError('InvalidAccessKeyId', 403), 'list', context) as Error).message).to.contain('credentials were refused');
    expect((classifyS3Error(sdkError('NoSuchBucket', 404), 'list', context) as Error).message).to.contain('the bucket does not exist');
  });

  it('an abort passes through untouched', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(classifyS3Error(abort, 'get', context)).to.equal(abort);
  });
});
