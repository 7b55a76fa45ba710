import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { freshTrailBucket, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { silentLogger } from '../../src/log/logger.js';
import type { S3Bucket } from '../../src/aws/types.js';

const key = (name: string) => trailKey('2026/11/23', '20261123T1000Z', name);

describe('bad objects', function () {
  this.timeout(120_000);
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('a truncated gzip is named, retried, quarantined after max_attempts; the other objects are delivered', async () => {
    const whole = cloudTrailFile('t', 50);
    await putObjects('trail-bucket', [
      { key: key('cut'), body: whole.subarray(0, whole.length - 40) },
      { key: key('good'), body: cloudTrailFile('g', 2) },
    ]);
    const clock = new ShiftedClock(2 * HOUR);
    const source = testSource({ max_attempts: 2 });
    const first = await h.poll(source, clock);
    expect(first.errors[0]).to.contain(`${key('cut')}: not a valid gzip stream`);
    clock.offsetMs += 2 * HOUR;
    await h.poll(source, clock);
    expect(h.store.failedObjects('trail').map((row) => row.key)).to.deep.equal([key('cut')]);
    expect(h.sink.eventIds()).to.deep.equal(['g-0', 'g-1']);
  });

  it('a 100 MB line is skipped and counted with its line number, without holding it in memory; the next line is delivered', async () => {
    const huge = gzipSync(Buffer.concat([Buffer.from('first\n'), Buffer.alloc(100 * 1024 * 1024, 0x78), Buffer.from('\nlast\n')]), { level: 1 });
    await putObjects('trail-bucket', [{ key: 'lines/app.log.gz', body: huge }]);
    const result = await h.poll(testSource({ prefix: 'lines/', format: 'lines' }));
    expect(result.status).to.equal('ok');
    expect(result.badLines).to.equal(1);
    expect(h.sink.events().map((event) => event.event)).to.deep.equal([{ message: 'first' }, { message: 'last' }]);
    // That the line is never held is measured on the line path itself, where no buffer of the
    // test's own hides it: test/unit/hardening.test.ts ("a line over the limit is dropped while it streams").
  });

  it('bytes that are not UTF-8 become U+FFFD; nothing else is lost', async () => {
    const text = Buffer.concat([Buffer.from('{"user":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n{"user":"ok"}\n')]);
    await putObjects('trail-bucket', [{ key: 'json/x.ndjson', body: text }]);
    const result = await h.poll(testSource({ prefix: 'json/', format: 'jsonlines' }));
    expect(result.status).to.equal('ok');
    expect(h.sink.events().map((event) => event.event)).to.deep.equal([{ user: 'caf\uFFFD' }, { user: 'ok' }]);
  });

  it('an object rewritten between listing and reading is not half-read: it is read again, as its new version, at the next poll', async () => {
    await putObjects('trail-bucket', [{ key: key('moving'), body: cloudTrailFile('old', 3) }]);
    const source = testSource();
    const real = createS3Bucket(s3BucketOptionsFor(source));
    let rewrites = 0;
    // The bucket as the poll sees it, except that a writer replaces the object right after the listing.
    const racing: S3Bucket = {
      ...real,
      bucket: real.bucket,
      listPages: (...args) => real.listPages(...args),
      listFolders: (...args) => real.listFolders(...args),
      async get(objectKey, signal, etag) {
        if (rewrites === 0) {
          rewrites += 1;
          await putObjects('trail-bucket', [{ key: objectKey, body: cloudTrailFile('new', 2) }]);
        }
        return real.get(objectKey, signal, etag);
      },
    };
    try {
      const first = await pollSource(source, { store: h.store, sink: h.sink, bucket: racing, clock: new ShiftedClock(), log: silentLogger }, new AbortController().signal);
      expect(first.objectsRetrying).to.equal(1);
      expect(first.errors[0]).to.contain('the object changed after it was listed');
      expect(h.sink.lines).to.have.length(0);
      expect(h.store.ledger('trail', 'trail-bucket', [key('moving')]).get(key('moving'))!.attempts).to.equal(0);

      const second = await pollSource(source, { store: h.store, sink: h.sink, bucket: racing, clock: new ShiftedClock(), log: silentLogger }, new AbortController().signal);
      expect(second.objectsDone).to.equal(1);
      expect(h.sink.eventIds()).to.deep.equal(['new-0', 'new-1']);
    } finally {
      real.destroy();
    }
  });
});
