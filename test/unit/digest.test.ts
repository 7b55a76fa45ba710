/** Issue 14, item 1: what CloudTrail's digests prove, judged on digests written as CloudTrail writes them. */
import { expect } from 'chai';
import { parseDigest, chainOf, isBackfillDigest, DigestFormatError } from '../../src/digest/digest-file.js';
import { publicKeyFromDer, publicKeyFromText, sha256Hex, signingString } from '../../src/digest/signature.js';
import { checkChains, checkLogFiles, checkSignature, type LedgerEntry, type ReadDigest } from '../../src/digest/verify.js';
import { testKey, writeDigest, type WrittenDigest } from '../helpers/digests.js';

const BUCKET = 'trail-bucket';
const HOUR = 3_600_000;
const key = testKey();
const other = testKey();
const at = (hour: number) => new Date(Date.UTC(2026, 10, 23, hour, 0, 0));
const logKey = (hour: number, n: number) => `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/111122223333_CloudTrail_us-east-1_20261123T${String(hour).padStart(2, '0')}${n}5Z_abc${n}.json.gz`;

/** Hourly digests from 10:00, each listing two log files, chained. */
function chain(hours: number): WrittenDigest[] {
  const digests: WrittenDigest[] = [];
  for (let hour = 10; hour < 10 + hours; hour += 1) {
    digests.push(writeDigest({ bucket: BUCKET, start: at(hour), end: new Date(at(hour).getTime() + HOUR), key, previous: digests.at(-1), logFiles: [0, 1].map((n) => ({ bucket: BUCKET, key: logKey(hour, n), content: `{"Records":[{"hour":${hour},"n":${n}}]}` })) }));
  }
  return digests;
}

const read = (written: WrittenDigest, overrides: Partial<ReadDigest> = {}): ReadDigest => ({ bucket: BUCKET, key: written.key, digest: parseDigest(written.text, written.key), sha256: sha256Hex(written.text), signature: written.signature, ...overrides });
const keys = (fingerprint: string) => (fingerprint === key.fingerprint ? [publicKeyFromDer(key.der)] : []);

describe('CloudTrail digests', () => {
  it('parseDigest reads the fields AWS documents, and names the field of a digest that is not one', () => {
    const [first] = chain(1);
    const digest = parseDigest(first!.text, first!.key);
    expect(digest).to.include({ awsAccountId: '111122223333', digestStartTime: '2026-11-23T10:00:00Z', digestEndTime: '2026-11-23T11:00:00Z', previousDigestSignature: null });
    expect(digest.logFiles.map((file) => file.s3Object)).to.deep.equal([logKey(10, 0), logKey(10, 1)]);
    const broken = JSON.parse(first!.text);
    broken.logFiles[1].hashValue = 'not-a-hash';
    expect(() => parseDigest(JSON.stringify(broken), 'd.json.gz')).to.throw(DigestFormatError, 'd.json.gz: not a CloudTrail digest: logFiles[1].hashValue: must be a SHA-256 as 64 hex digits');
    expect(() => parseDigest('{"awsAccountId":', 'd.json.gz')).to.throw(DigestFormatError, /^d\.json\.gz: not a CloudTrail digest: not valid JSON/);
  });

  it('the signing string is the one AWS documents; the first digest of a chain signs the word null', () => {
    const [first, second] = chain(2);
    const digest = parseDigest(first!.text, first!.key);
    expect(signingString(digest, 'ab'.repeat(32))).to.equal(`2026-11-23T11:00:00Z\n${BUCKET}/${first!.key}\n${'ab'.repeat(32)}\nnull`);
    expect(signingString(parseDigest(second!.text, second!.key), 'cd'.repeat(32)).split('\n')[3]).to.equal(first!.signature);
  });

  it('a digest signed with the key of its fingerprint verifies; altered bytes, another key, no signature or another place do not', () => {
    const [digest] = chain(1);
    expect(checkSignature(read(digest!), keys)).to.equal(undefined);
    expect(checkSignature(read(digest!, { sha256: sha256Hex(`${digest!.text} `) }), keys)).to.deep.include({ kind: 'bad_signature', reason: `the signature does not verify with the public key ${key.fingerprint}` });
    const signedByOther = writeDigest({ bucket: BUCKET, start: at(10), end: at(11), key: other, logFiles: [] });
    expect(checkSignature(read(signedByOther), keys)).to.deep.include({ reason: `no public key with fingerprint ${other.fingerprint}` });
    // Signed by another key, but claiming ours: the signature must fail, not the lookup.
    const claimed = JSON.parse(signedByOther.text);
    claimed.digestPublicKeyFingerprint = key.fingerprint;
    const forged = { ...signedByOther, text: JSON.stringify(claimed) };
    expect(checkSignature(read(forged), keys)?.kind).to.equal('bad_signature');
    expect(checkSignature(read(digest!, { signature: undefined }), keys)).to.deep.include({ reason: 'the object has no x-amz-meta-signature' });
    expect(checkSignature(read(digest!, { key: `copy/${digest!.key}` }), keys)).to.deep.include({ reason: `it names itself ${BUCKET}/${digest!.key}` });
  });

  it('public keys are read as ListPublicKeys gives them (DER), as PEM, or as the base64 the CLI prints', () => {
    const [digest] = chain(1);
    for (const publicKey of [publicKeyFromDer(key.der), publicKeyFromText(key.publicKey.export({ format: 'pem', type: 'spki' }) as string), publicKeyFromText(key.der.toString('base64'))]) {
      expect(checkSignature(read(digest!), () => [publicKey])).to.equal(undefined);
    }
  });

  it('a complete chain has no gap; a deleted digest, an altered one and a restarted chain each leave the span they uncover', () => {
    const digests = chain(5);
    expect(checkChains(digests.map((digest) => read(digest)))).to.deep.equal([]);
    // Deleted: 12:00–13:00's digest is gone; 13:00–14:00's names it.
    const deleted = checkChains(digests.filter((_, index) => index !== 2).map((digest) => read(digest)));
    expect(deleted).to.have.length(1);
    expect(deleted[0]).to.deep.include({ kind: 'chain_gap', digest: digests[3]!.key, from: '2026-11-23T12:00:00Z', to: '2026-11-23T13:00:00Z' });
    expect((deleted[0] as { reason: string }).reason).to.contain(`its previous digest ${BUCKET}/${digests[2]!.key} is missing`);
    // Altered: 11:00–12:00's digest was rewritten after its successor recorded its hash.
    const altered = checkChains(digests.map((digest, index) => read(digest, index === 1 ? { sha256: sha256Hex('rewritten') } : {})));
    expect(altered.map((finding) => [finding.kind, finding.digest])).to.deep.equal([['chain_gap', digests[2]!.key]]);
    expect((altered[0] as { reason: string }).reason).to.contain('was altered');
    // Restarted: logging stopped at 12:00 and started at 14:00, a new chain.
    const first = chain(2);
    const restarted = writeDigest({ bucket: BUCKET, start: at(14), end: at(15), key, logFiles: [] });
    const gaps = checkChains([...first, restarted].map((digest) => read(digest)));
    expect(gaps).to.have.length(1);
    expect(gaps[0]).to.deep.include({ digest: restarted.key, from: '2026-11-23T12:00:00Z', to: '2026-11-23T14:00:00Z' });
  });

  it('chains are told apart by trail, account and region, and backfill digests stand outside them', () => {
    const east = chain(2);
    const west = [writeDigest({ bucket: BUCKET, region: 'us-west-2', start: at(10), end: at(11), key, logFiles: [] })];
    const backfill = writeDigest({ bucket: BUCKET, start: at(10), end: at(11), key, logFiles: [], keyName: east[0]!.key.replace('.json.gz', '_backfill.json.gz') });
    expect(chainOf(east[0]!.key)).to.equal('111122223333_CloudTrail-Digest_us-east-1_management_us-east-1');
    expect(chainOf(west[0]!.key)).to.not.equal(chainOf(east[0]!.key));
    expect(isBackfillDigest(backfill.key)).to.equal(true);
    expect(checkChains([...east, ...west, backfill].map((digest) => read(digest)))).to.deep.equal([]);
  });

  it('every listed log file is delivered with the bytes CloudTrail hashed: missing, altered and never hashed are told apart', () => {
    const [digest] = chain(1);
    const parsed = parseDigest(digest!.text, digest!.key);
    const [first, second] = parsed.logFiles;
    const ledger = new Map<string, LedgerEntry>([[`${BUCKET}/${first!.s3Object}`, { done: true, sha256: first!.hashValue }]]);
    const lookup = (bucket: string, objectKey: string) => ledger.get(`${bucket}/${objectKey}`);
    expect(checkLogFiles(read(digest!), lookup)).to.deep.equal([{ kind: 'missing', digest: digest!.key, bucket: BUCKET, key: second!.s3Object }]);
    ledger.set(`${BUCKET}/${second!.s3Object}`, { done: true, sha256: sha256Hex('altered after delivery') });
    expect(checkLogFiles(read(digest!), lookup)).to.deep.equal([{ kind: 'hash_mismatch', digest: digest!.key, bucket: BUCKET, key: second!.s3Object, expected: second!.hashValue, found: sha256Hex('altered after delivery') }]);
    ledger.set(`${BUCKET}/${second!.s3Object}`, { done: true, sha256: undefined });
    expect(checkLogFiles(read(digest!), lookup).map((finding) => finding.kind)).to.deep.equal(['unhashed']);
    ledger.set(`${BUCKET}/${second!.s3Object}`, { done: false, sha256: undefined });
    expect(checkLogFiles(read(digest!), lookup).map((finding) => finding.kind)).to.deep.equal(['missing']);
    ledger.set(`${BUCKET}/${second!.s3Object}`, { done: true, sha256: second!.hashValue.toUpperCase() });
    expect(checkLogFiles(read(digest!), lookup)).to.deep.equal([]);
  });
});
