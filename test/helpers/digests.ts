/**
 * CloudTrail digest files as CloudTrail writes them (field names and signing string as AWS
 * documents them), signed with an RSA key pair the test makes, for the digest tests.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface TestKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as ListPublicKeys returns it: DER, PKCS#1. */
  der: Buffer;
  fingerprint: string;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'pkcs1' });
  return { privateKey, publicKey, der, fingerprint: createHash('md5').update(der).digest('hex') };
}

export interface LogFileEntry {
  bucket: string;
  key: string;
  /** The log file's decompressed bytes, whose SHA-256 the digest records. */
  content: Buffer | string;
}

export interface WrittenDigest {
  key: string;
  /** The digest's JSON text (decompressed). */
  text: string;
  /** What S3 stores: the gzipped text. */
  body: Buffer;
  /** x-amz-meta-signature */
  signature: string;
  sha256: string;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const stamp = (time: Date) => time.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function digestKey(account: string, region: string, trail: string, end: Date, prefix = ''): string {
  const day = end.toISOString().slice(0, 10).replaceAll('-', '/');
  const compact = stamp(end).replaceAll('-', '').replaceAll(':', '');
  return `${prefix}AWSLogs/${account}/CloudTrail-Digest/${region}/${day}/${account}_CloudTrail-Digest_${region}_${trail}_${region}_${compact}.json.gz`;
}

/** One digest, chained to `previous` (absent: the first of a chain), signed by `key`. */
export function writeDigest(options: {
  bucket: string;
  account?: string;
  region?: string;
  trail?: string;
  start: Date;
  end: Date;
  logFiles: LogFileEntry[];
  previous?: WrittenDigest | undefined;
  key: TestKey;
  keyName?: string;
}): WrittenDigest {
  const account = options.account ?? '111122223333';
  const region = options.region ?? 'us-east-1';
  const key = options.keyName ?? digestKey(account, region, options.trail ?? 'management', options.end);
  const previous = options.previous;
  const document = {
    awsAccountId: account,
    digestStartTime: stamp(options.start),
    digestEndTime: stamp(options.end),
    digestS3Bucket: options.bucket,
    digestS3Object: key,
    digestPublicKeyFingerprint: options.key.fingerprint,
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: options.logFiles.length > 0 ? stamp(new Date(options.end.getTime() - 60_000)) : null,
    oldestEventTime: options.logFiles.length > 0 ? stamp(options.start) : null,
    previousDigestS3Bucket: previous ? options.bucket : null,
    previousDigestS3Object: previous ? previous.key : null,
    previousDigestHashValue: previous ? previous.sha256 : null,
    previousDigestHashAlgorithm: previous ? 'SHA-256' : null,
    previousDigestSignature: previous ? previous.signature : null,
    logFiles: options.logFiles.map((file) => ({
      s3Bucket: file.bucket,
      s3Object: file.key,
      hashValue: sha256(file.content),
      hashAlgorithm: 'SHA-256',
      newestEventTime: stamp(new Date(options.end.getTime() - 60_000)),
      oldestEventTime: stamp(options.start),
    })),
  };
  const text = JSON.stringify(document);
  const digestSha = sha256(text);
  const toSign = `${document.digestEndTime}\n${options.bucket}/${key}\n${digestSha}\n${document.previousDigestSignature ?? 'null'}`;
  const signature = sign('sha256', Buffer.from(toSign), options.key.privateKey).toString('hex');
  return { key, text, body: gzipSync(text), signature, sha256: digestSha };
}
