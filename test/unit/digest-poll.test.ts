/**
 * The poll's digest check (issue 14) against a bucket in memory and a real state file: how often
 * it runs, what it does when S3 or the keys fail, that a problem is logged once, and recovery.
 */
import { expect } from 'chai';
import path from 'node:path';
import { FakeBucket } from '../helpers/fake-bucket.js';
import { tempDir } from '../helpers/source.js';
import { createHash } from 'node:crypto';
import { testKey, writeDigest } from '../helpers/digests.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import type { ObjectRef } from '../../src/aws/types.js';
import { checkDigestsInPoll, type DigestPollContext } from '../../src/digest/digest-poll.js';
import { publicKeyFromDer } from '../../src/digest/signature.js';
import { onEvent } from '../../src/telemetry/events.js';
import { silentLogger } from '../../src/log/logger.js';

const PARTITION = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
const HOUR = 3_600_000;
const key = testKey();

describe('the digest check of a poll', () => {
  let store: Store;
  let bucket: FakeBucket;
  let events: { name: string; fields: Record<string, unknown> }[];
  let stopListening: () => void;
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  const start = new Date(now - 2 * HOUR);
  const logKey = (name: string) => `${PARTITION}${start.toISOString().slice(0, 10).replaceAll('-', '/')}/111122223333_CloudTrail_us-east-1_${name}.json.gz`;

  beforeEach(() => {
    store = openSqliteStore(path.join(tempDir(), 'state.db'));
    store.openSource('trail', 'scope', null, now);
    store.recordDiscovery('trail', [{ prefix: PARTITION, unpaddedDates: false }], now);
    bucket = new FakeBucket();
    events = [];
    stopListening = onEvent((name, fields) => events.push({ name, fields: fields as Record<string, unknown> }));
  });
  afterEach(() => {
    stopListening();
    store.close();
  });

  const context = (overrides: Partial<DigestPollContext> = {}): DigestPollContext => ({
    sourceId: 'trail',
    store,
    bucket,
    nowMs: now,
    historyRetentionMs: 7 * 24 * HOUR,
    log: silentLogger,
    signal: new AbortController().signal,
    keys: async () => () => [publicKeyFromDer(key.der)],
    everyMs: HOUR,
    wanted: () => true,
    pull: async () => new Set(),
    ...overrides,
  });

  /** One digest of the hour two hours ago listing `names`, stored in the bucket as CloudTrail would. */
  function putDigest(names: string[]): void {
    const digest = writeDigest({ bucket: 'fake-bucket', start, end: new Date(start.getTime() + HOUR), key, logFiles: names.map((name) => ({ bucket: 'fake-bucket', key: logKey(name), content: `{"Records":["${name}"]}` })) });
    bucket.put(digest.key, digest.body, new Date(), { signature: digest.signature });
  }

  it('runs at most once per interval, and at every poll with an interval of 0', async () => {
    putDigest([]);
    expect((await checkDigestsInPoll(context())).checked).to.equal(true);
    expect((await checkDigestsInPoll(context({ nowMs: now + HOUR / 2 }))).checked).to.equal(false);
    expect((await checkDigestsInPoll(context({ nowMs: now + HOUR / 2, everyMs: 0 }))).checked).to.equal(true);
    expect(store.digestChecks('trail', 0)).to.have.length(1);
    // The results of digests older than the checked span are forgotten: the table stays bounded.
    expect((await checkDigestsInPoll(context({ nowMs: now + 3 * 24 * HOUR, everyMs: 0 }))).checked).to.equal(true);
    expect(store.digestChecks('trail', 0)).to.deep.equal([]);
  });

  it('when S3 or the public keys fail, says so, keeps what was delivered, and tries again at the next poll', async () => {
    const list = bucket.listPages.bind(bucket);
    bucket.listPages = async function* (prefix: string, startAfter: string | undefined) {
      if (prefix.includes('CloudTrail-Digest')) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      yield* list(prefix, startAfter);
    };
    expect((await checkDigestsInPoll(context())).checked).to.equal(false);
    expect(events.filter((event) => event.name === 'digest_check_failed').map((event) => event.fields['error'])).to.deep.equal(['Access Denied']);
    expect(store.lastDigestCheckMs('trail')).to.equal(null);
    const refused = await checkDigestsInPoll(context({ keys: async () => Promise.reject(new Error('cloudtrail:ListPublicKeys failed (denied)')) }));
    expect(refused.checked).to.equal(false);
    expect(store.lastDigestCheckMs('trail')).to.equal(null);
  });

  it('does not pull again a listed file the source quarantined: it is reported as not delivered', async () => {
    putDigest(['bad']);
    const object = { bucket: 'fake-bucket', key: logKey('bad'), etag: 'e', size: 10, lastModified: new Date(now) };
    store.beginObject('trail', PARTITION, object, now);
    store.failObjectAttempt('trail', object, 'not valid JSON', 1, now);
    const pulled: ObjectRef[] = [];
    const result = await checkDigestsInPoll(context({ pull: async (objects) => (pulled.push(...objects), new Set()) }));
    expect(pulled).to.deep.equal([]);
    expect(result).to.include({ recovered: 0, problems: 1 });
    expect(store.digestChecks('trail', 0)[0]!.findings.map((finding) => finding.kind)).to.deep.equal(['missing']);
  });

  it('pulls a listed file never delivered, records it as recovered, and logs a problem once, not at every check', async () => {
    putDigest(['a', 'gone']);
    const pulled: ObjectRef[] = [];
    const pull = async (objects: ObjectRef[], partition: string) => {
      pulled.push(...objects);
      expect(partition).to.equal(PARTITION);
      // 'a' is delivered (with the bytes CloudTrail hashed); 'gone' is not in the bucket any more.
      const done = new Set<string>();
      for (const object of objects) {
        if (!object.key.endsWith('_a.json.gz')) continue;
        store.beginObject('trail', partition, object, now);
        store.completeObject('trail', object, { events: 1, badLines: 0, duplicates: 0, sha256: createHash('sha256').update('{"Records":["a"]}').digest('hex') }, now);
        done.add(object.key);
      }
      return done;
    };
    const first = await checkDigestsInPoll(context({ pull, everyMs: 0 }));
    expect(first).to.include({ checked: true, digests: 1, recovered: 1, problems: 1 });
    expect(pulled.map((object) => object.key)).to.deep.equal([logKey('a'), logKey('gone')]);
    expect(pulled[0]).to.include({ bucket: 'fake-bucket', etag: '', size: -1 });
    const [row] = store.digestChecks('trail', 0);
    expect(row).to.include({ filesListed: 2, filesDelivered: 1, recovered: 1 });
    expect(row!.findings.map((finding) => [finding.kind, finding['key']])).to.deep.equal([['missing', logKey('gone')]]);
    expect(events.filter((event) => event.name === 'object_recovered').map((event) => event.fields['key'])).to.deep.equal([logKey('a')]);
    expect(events.filter((event) => event.name === 'digest_finding')).to.have.length(1);
    await checkDigestsInPoll(context({ pull, everyMs: 0, nowMs: now + 1 }));
    expect(events.filter((event) => event.name === 'digest_finding')).to.have.length(1);
    expect(store.digestChecks('trail', 0)[0]).to.include({ recovered: 1 });
  });
});
