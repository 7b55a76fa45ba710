/**
 * A digest's RSA signature, as AWS documents it ("Custom implementations of CloudTrail log file
 * integrity validation"): CloudTrail signs, with SHA256withRSA, the string
 *
 *     <digestEndTime>\n<digestS3Bucket>/<digestS3Object>\n<hex SHA-256 of the digest's decompressed bytes>\n<previousDigestSignature, or "null">
 *
 * and puts the signature, hex-encoded, in the digest object's `x-amz-meta-signature` metadata.
 * The public key is the one whose fingerprint the digest names (`cloudtrail:ListPublicKeys`
 * gives them as DER, PKCS#1).
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DigestFile } from './digest-file.js';

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function signingString(digest: DigestFile, digestSha256: string): string {
  // The first digest of a chain has no previous signature: CloudTrail signs the word null.
  return `${digest.digestEndTime}\n${digest.digestS3Bucket}/${digest.digestS3Object}\n${digestSha256}\n${digest.previousDigestSignature ?? 'null'}`;
}

/** Whether `signatureHex` is CloudTrail's signature of this digest under `key`. */
export function signatureHolds(digest: DigestFile, digestSha256: string, signatureHex: string, key: KeyObject): boolean {
  if (!/^([0-9a-f]{2})+$/i.test(signatureHex)) return false;
  return verify('sha256', Buffer.from(signingString(digest, digestSha256), 'utf8'), key, Buffer.from(signatureHex, 'hex'));
}

/** A public key as ListPublicKeys returns it: DER, PKCS#1. */
export function publicKeyFromDer(der: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'pkcs1' });
}

/**
 * A public key from a file: PEM (`RSA PUBLIC KEY` or `PUBLIC KEY`), or the base64 of the DER as
 * `aws cloudtrail list-public-keys` prints its `Value`.
 */
export function publicKeyFromText(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
  return publicKeyFromDer(Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'));
}

/**
 * Every key of a key file: PEM blocks, or base64 DER values one per line (blank lines and lines
 * starting with # passed over). `where` names the file in the error.
 */
export function publicKeysFromFile(text: string, where: string): KeyObject[] {
  const pem = text.match(/-----BEGIN [A-Z ]*PUBLIC KEY-----[\s\S]*?-----END [A-Z ]*PUBLIC KEY-----/g);
  const pieces = pem ?? text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (pieces.length === 0) throw new Error(`${where}: holds no public key (PEM, or base64 DER one per line)`);
  return pieces.map((piece, index) => {
    try {
      return publicKeyFromText(piece);
    } catch (error) {
      throw new Error(`${where}: key ${index + 1} is not an RSA public key (${(error as Error).message})`);
    }
  });
}
