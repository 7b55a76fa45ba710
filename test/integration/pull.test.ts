import { expect } from 'chai';
import { freshTrailBucket, harness, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { putObjects, cloudTrailFile, trailKey, TRAIL_PREFIX } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { scopeOf } from '../../src/poll/partitions.js';
import { hostname } from 'node:os';
import { startForwarder } from '../helpers/forwarder.js';
import { motoEndpoint } from '../helpers/moto.js';

/** The object listings (not the Delimiter walks of discovery) a poll sent, as their query parameters. */
function objectListings(requests: { method: string; path: string }[]): URLSearchParams[] {
  return requests
    .map((request) => new URL(request.path, 'http://x').searchParams)
    .filter((query) => query.get('list-type') === '2' && !query.has('delimiter'));
}

describe('pulling a CloudTrail prefix from S3 (moto)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('delivers every event of every object exactly once, and a restart repeats nothing', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 3) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 700) },
      { key: trailKey('2026/11/23', '20261123T1010Z', 'cccc'), body: cloudTrailFile('c', 1) },
    ]);
    const source = testSource();
    const first = await h.poll(source);
    expect(first.status).to.equal('ok');
    expect(first.objectsDone).to.equal(3);
    expect(first.events).to.equal(704);
    const ids = h.sink.eventIds();
    expect(new Set(ids).size).to.equal(704);
    expect(ids).to.include.members(['a-0', 'a-2', 'b-699', 'c-0']);

    h.reopen();
    const second = await h.poll(source);
    expect(second.objectsDone).to.equal(0);
    expect(h.sink.lines).to.have.length(704);
  });

  it('writes the envelope: deterministic id, event time, source, bucket, key, format', async () => {
    const key = trailKey('2026/11/23', '20261123T1000Z', 'aaaa');
    await putObjects('trail-bucket', [{ key, body: cloudTrailFile('a', 2) }]);
    await h.poll(testSource());
    const [first] = h.sink.events() as unknown as Record<string, unknown>[];
    expect(first).to.include({ time: '2026-11-23T10:00:00Z', source: 'trail', bucket: 'trail-bucket', key, format: 'cloudtrail' });
    expect(first!.id).to.match(/^[0-9a-f]{32}$/);

    const again = harness();
    await again.poll(testSource());
    expect(again.sink.events()[0]!.id).to.equal(first!.id);
    again.close();
  });

  it('pulls a late object whose key sorts before the newest done key, on the next poll', async () => {
    // CloudTrail files of the same minute differ by a random suffix: a late one can sort first.
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1005Z', 'Mzzz'), body: cloudTrailFile('early', 1) },
      { key: trailKey('2026/11/23', '20261123T1010Z', 'Xxxx'), body: cloudTrailFile('newest', 1) },
    ]);
    const source = testSource();
    await h.poll(source);
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1010Z', 'Aaaa'), body: cloudTrailFile('late', 1) }]);
    const second = await h.poll(source);
    expect(second.objectsDone).to.equal(1);
    expect(h.sink.eventIds().slice(2)).to.deep.equal(['late-0']);
    expect(h.sink.eventIds().slice(0, 2).sort()).to.deep.equal(['early-0', 'newest-0']);
  });

  it('does not pull an object that arrives later than late_window after newer keys', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1010Z', 'Xxxx'), body: cloudTrailFile('newest', 1) }]);
    const source = testSource({ late_window: '1h' });
    // Two hours on, the newest object is older than the late window: the marker passes it.
    const later = new ShiftedClock(2 * HOUR);
    await h.poll(source, later);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(trailKey('2026/11/23', '20261123T1010Z', 'Xxxx'));

    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1010Z', 'Aaaa'), body: cloudTrailFile('too-late', 1) }]);
    const second = await h.poll(source, later);
    expect(second.objectsDone).to.equal(0);
    expect(h.sink.eventIds()).to.deep.equal(['newest-0']);
  });

  it('keeps the marker before recent objects, so the steady-state listing starts at the late window', async () => {
    const keys = ['0001', '0002', '0003'].map((suffix) => trailKey('2026/11/23', '20261123T1000Z', suffix));
    await putObjects('trail-bucket', keys.map((key) => ({ key, body: cloudTrailFile(key, 1) })));
    const forwarder = await startForwarder(motoEndpoint());
    try {
      const source = testSource({ endpoint: forwarder.url });
      await h.poll(source);
      expect(h.store.partitions('trail')[0]!.settledKey).to.equal('');
      await h.poll(source, new ShiftedClock(2 * HOUR));
      expect(h.store.partitions('trail')[0]!.settledKey).to.equal(keys[2]);
      // The steady state: one LIST request, starting after the marker.
      forwarder.requests.length = 0;
      await h.poll(source, new ShiftedClock(3 * HOUR));
      const listings = objectListings(forwarder.requests);
      expect(listings).to.have.length(1);
      expect(listings[0]!.get('start-after')).to.equal(keys[2]);
    } finally {
      await forwarder.close();
    }
  });

  it('skips zero-byte objects, folder keys, digest files and keys the file_pattern does not match, and counts them', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'good'), body: cloudTrailFile('good', 1) },
      { key: trailKey('2026/11/23', '20261123T1000Z', 'empty'), body: Buffer.alloc(0) },
      { key: `${TRAIL_PREFIX}2026/11/23/`, body: Buffer.alloc(0) },
      { key: `${TRAIL_PREFIX}2026/11/23/notes.txt`, body: 'not a log' },
      { key: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/23/digest.json.gz', body: cloudTrailFile('digest', 1) },
    ]);
    const result = await h.poll(testSource({ prefix: 'AWSLogs/111122223333/', file_pattern: '.*?\\.json\\.gz$' }));
    expect(h.sink.eventIds()).to.deep.equal(['good-0']);
    // Empty, folder, pattern; the digest folder is not even walked.
    expect(result.objectsSkipped).to.equal(3);
    expect(h.store.getSource('trail')!.objectsSkipped).to.equal(3);
    const again = await h.poll(testSource({ prefix: 'AWSLogs/111122223333/', file_pattern: '.*?\\.json\\.gz$' }));
    expect(again.objectsSkipped).to.equal(0);
    // A source pointed at the digests themselves still pulls none of them.
    const digests = harness();
    const digestPoll = await digests.poll(testSource({ prefix: 'AWSLogs/111122223333/CloudTrail-Digest/' }));
    expect(digestPoll.objectsSkipped).to.equal(1);
    expect(digests.sink.lines).to.have.length(0);
    digests.close();
  });

  it('reads the bucket root when the prefix is "/"', async () => {
    await putObjects('trail-bucket', [
      { key: 'top.json.gz', body: cloudTrailFile('top', 1) },
      { key: 'deep/down/file.json.gz', body: cloudTrailFile('deep', 1) },
    ]);
    await h.poll(testSource({ prefix: '/' }));
    expect(h.sink.eventIds().sort()).to.deep.equal(['deep-0', 'top-0']);
  });

  it('pages through more than 1000 objects without loss or repetition', async function () {
    this.timeout(120_000);
    const objects = Array.from({ length: 1005 }, (_, index) => ({
      key: trailKey('2026/11/23', `20261123T${String(1000 + Math.floor(index / 60)).padStart(4, '0')}Z`, String(index).padStart(5, '0')),
      body: cloudTrailFile(`o${index}`, 1),
    }));
    await putObjects('trail-bucket', objects);
    const result = await h.poll(testSource({ concurrency: 8 }));
    expect(result.objectsDone).to.equal(1005);
    const ids = h.sink.eventIds();
    expect(ids).to.have.length(1005);
    expect(new Set(ids).size).to.equal(1005);
  });

  it('clears the state and pulls everything again when the prefix changes, as JSA does', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) },
      { key: 'AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/23/x.json.gz', body: cloudTrailFile('eu', 1) },
    ]);
    await h.poll(testSource());
    expect(h.sink.eventIds()).to.deep.equal(['a-0']);
    const wider = await h.poll(testSource({ prefix: 'AWSLogs/111122223333/CloudTrail/' }));
    expect(wider.objectsDone).to.equal(2);
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'a-0', 'eu-0']);
  });

  it('start: now pulls only objects that arrive after the first poll; start: since goes by LastModified', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'old1'), body: cloudTrailFile('old', 1) }]);
    const fromNow = testSource({ start: 'now' });
    // The first poll happens a minute after the upload.
    await h.poll(fromNow, new ShiftedClock(60_000));
    expect(h.sink.lines).to.have.length(0);

    const other = harness();
    await other.poll(testSource({ id: 'since', start: { since: '2000-01-01' } }));
    expect(other.sink.eventIds()).to.deep.equal(['old-0']);
    const future = harness();
    await future.poll(testSource({ id: 'future', start: { since: '2999-01-01' } }));
    expect(future.sink.lines).to.have.length(0);
    other.close();
    future.close();
  });

  it('skips a source that another live process is polling, and takes over from one that died', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) }]);
    const source = testSource();
    h.store.openSource('trail', scopeOf(source), null, Date.now());
    h.store.acquireLease('trail', 'collector-2:4242', Date.now(), Date.now() + HOUR);
    const busy = await h.poll(source);
    expect(busy.status).to.equal('busy');
    expect(busy.errors[0]).to.contain('is being polled by collector-2:4242');
    expect(h.sink.lines).to.have.length(0);

    h.store.releaseLease('trail', 'collector-2:4242');
    // A pid far above pid_max: a poller on this host that is gone.
    h.store.acquireLease('trail', `${hostname()}:99999999`, Date.now(), Date.now() + HOUR);
    const resumed = await h.poll(source);
    expect(resumed.status).to.equal('ok');
    expect(h.sink.eventIds()).to.deep.equal(['a-0']);
  });

  it('listing: full lists the whole prefix every poll and lets the ledger decide, for keys not ordered by time', async () => {
    await putObjects('trail-bucket', [{ key: `${TRAIL_PREFIX}zzz-newest-name.json.gz`, body: cloudTrailFile('z', 1) }]);
    const source = testSource({ listing: 'full' });
    const later = new ShiftedClock(2 * HOUR);
    await h.poll(source, later);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal('');
    // A key that sorts first, arriving hours later: a marker would have passed it.
    await putObjects('trail-bucket', [{ key: `${TRAIL_PREFIX}aaa-arrives-later.json.gz`, body: cloudTrailFile('a', 1) }]);
    const second = await h.poll(source, new ShiftedClock(4 * HOUR));
    expect(second.objectsDone).to.equal(1);
    expect(h.sink.eventIds()).to.deep.equal(['z-0', 'a-0']);
  });

  it('prunes ledger rows below the marker after history_retention, and still repeats nothing', async () => {
    const keys = ['0001', '0002', '0003'].map((suffix) => trailKey('2026/11/23', '20261123T1000Z', suffix));
    await putObjects('trail-bucket', keys.map((key) => ({ key, body: cloudTrailFile(key, 1) })));
    const source = testSource({ history_retention: '1d' });
    await h.poll(source, new ShiftedClock(2 * HOUR));
    expect(h.store.ledger('trail', 'trail-bucket', keys).size).to.equal(3);
    // Two days on, the rows below the marker are history and go.
    await h.poll(source, new ShiftedClock(50 * HOUR));
    expect(h.store.ledger('trail', 'trail-bucket', keys).size).to.equal(0);
    const again = await h.poll(source, new ShiftedClock(50 * HOUR));
    expect(again.objectsDone).to.equal(0);
    expect(h.sink.lines).to.have.length(3);
  });

  it('lists only from the marker on: objects before it are not looked at again', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/22', '20261122T1000Z', 'aaaa'), body: cloudTrailFile('a', 1) },
      { key: trailKey('2026/11/23', '20261123T1000Z', 'bbbb'), body: cloudTrailFile('b', 1) },
    ]);
    const forwarder = await startForwarder(motoEndpoint());
    try {
      const source = testSource({ endpoint: forwarder.url });
      const later = new ShiftedClock(2 * HOUR);
      await h.poll(source, later);
      // Forget the ledger entirely: only the marker keeps the objects from being pulled again.
      h.store.requestReset('trail', { mode: 'after', key: trailKey('2026/11/23', '20261123T1000Z', 'bbbb') });
      forwarder.requests.length = 0;
      const again = await h.poll(source, later);
      expect(again.objectsDone).to.equal(0);
      expect(h.sink.lines).to.have.length(2);
      const listings = objectListings(forwarder.requests);
      expect(listings).to.have.length(1);
      expect(listings[0]!.get('start-after')).to.equal(trailKey('2026/11/23', '20261123T1000Z', 'bbbb'));
    } finally {
      await forwarder.close();
    }
  });
});
