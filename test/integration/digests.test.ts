/**
 * CloudTrail digests read from S3 (moto), as CloudTrail delivers them: gzipped, signed in their
 * `x-amz-meta-signature`, one folder a day beside the partition (issue 14, item 1 in part).
 */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { daysBetween, digestPrefixOf, readDigests, type UnreadableDigest } from '../../src/digest/digest-reader.js';
import { publicKeyFromDer } from '../../src/digest/signature.js';
import { checkChains, checkSignature, type ReadDigest } from '../../src/digest/verify.js';
import { freshTrailBucket, type Harness } from '../helpers/harness.js';
import { putObjects, deleteObject } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { testKey, writeDigest, type WrittenDigest } from '../helpers/digests.js';

const PARTITION = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
const HOUR = 3_600_000;
const at = (day: number, hour: number) => new Date(Date.UTC(2026, 10, day, hour, 0, 0));

describe('CloudTrail digests in S3', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('digestPrefixOf finds the digest folder beside a partition (organization trails too); daysBetween names the day folders', () => {
    expect(digestPrefixOf(PARTITION)).to.equal('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/');
    expect(digestPrefixOf('logs/AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/')).to.equal('logs/AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/eu-west-1/');
    expect(digestPrefixOf('AWSLogs/111122223333/vpcflowlogs/us-east-1/')).to.equal(undefined);
    expect(daysBetween(at(23, 22).getTime(), at(25, 1).getTime())).to.deep.equal(['2026/11/23/', '2026/11/24/', '2026/11/25/']);
  });

  it('reads the digests of the days asked for, with their signature from the metadata: signed, chained across midnight, a deleted one found, a broken one named', async () => {
    const key = testKey();
    const digests: WrittenDigest[] = [];
    for (let hour = 21; hour < 27; hour += 1) {
      const start = new Date(at(23, 0).getTime() + hour * HOUR);
      digests.push(writeDigest({ bucket: 'trail-bucket', start, end: new Date(start.getTime() + HOUR), key, previous: digests.at(-1), logFiles: [{ bucket: 'trail-bucket', key: `${PARTITION}x-${hour}.json.gz`, content: `{"Records":[${hour}]}` }] }));
    }
    const broken = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/24/111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20261124T045900Z.json.gz';
    await putObjects('trail-bucket', [
      ...digests.map((digest) => ({ key: digest.key, body: digest.body, metadata: { signature: digest.signature, 'signature-algorithm': 'SHA256withRSA' } })),
      { key: broken, body: gzipSync('{"awsAccountId": "111122223333"}') },
      // Another day's digest, not asked for.
      { key: writeDigest({ bucket: 'trail-bucket', start: at(26, 0), end: at(26, 1), key, logFiles: [] }).key, body: gzipSync('{}') },
    ]);
    const bucket = createS3Bucket(s3BucketOptionsFor(testSource()));
    const signal = new AbortController().signal;
    const readAll = async () => {
      const found: (ReadDigest | UnreadableDigest)[] = [];
      for await (const item of readDigests(bucket, digestPrefixOf(PARTITION)!, daysBetween(at(23, 0).getTime(), at(24, 0).getTime()), signal)) found.push(item);
      return found;
    };
    try {
      const found = await readAll();
      const read = found.filter((item): item is ReadDigest => 'digest' in item);
      expect(read.map((item) => item.key)).to.deep.equal(digests.map((digest) => digest.key));
      const publicKey = publicKeyFromDer(key.der);
      expect(read.map((item) => checkSignature(item, () => [publicKey]))).to.deep.equal(read.map(() => undefined));
      expect(checkChains(read)).to.deep.equal([]);
      expect(found.filter((item) => !('digest' in item))).to.deep.equal([{ key: broken, reason: 'not a CloudTrail digest: digestStartTime: is missing' }]);
      // A small object that inflates far beyond a digest is named, not inflated into memory.
      const bomb = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/25/111122223333_CloudTrail-Digest_us-east-1_management_us-east-1_20261125T010000Z.json.gz';
      await putObjects('trail-bucket', [{ key: bomb, body: gzipSync(Buffer.alloc(2_000_000, 0x20)) }]);
      const inflated: (ReadDigest | UnreadableDigest)[] = [];
      for await (const item of readDigests(bucket, digestPrefixOf(PARTITION)!, ['2026/11/25/'], signal, 100_000)) inflated.push(item);
      expect(inflated.map((item) => ('digest' in item ? 'read' : item.reason))).to.deep.equal(['inflates to more than 400000 bytes, too large for a digest']);
      // An object far larger than a digest is named, not read into memory.
      const bounded: (ReadDigest | UnreadableDigest)[] = [];
      for await (const item of readDigests(bucket, digestPrefixOf(PARTITION)!, ['2026/11/23/'], signal, 100)) bounded.push(item);
      expect(bounded.map((item) => ('digest' in item ? 'read' : item.reason))).to.deep.equal(digests.slice(0, 2).map((digest) => `${digest.body.length} bytes, too large for a digest (at most 100)`));

      await deleteObject('trail-bucket', digests[3]!.key);
      const gaps = checkChains((await readAll()).filter((item): item is ReadDigest => 'digest' in item));
      expect(gaps.map((gap) => [gap.kind, gap.digest, 'from' in gap ? gap.from : '', 'to' in gap ? gap.to : ''])).to.deep.equal([['chain_gap', digests[4]!.key, '2026-11-24T00:00:00Z', '2026-11-24T01:00:00Z']]);
    } finally {
      bucket.destroy();
    }
  });
});
