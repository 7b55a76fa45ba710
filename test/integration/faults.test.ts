import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { harness, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { startFaultyS3, type FaultyS3 } from '../helpers/faulty-s3.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource, tempDir } from '../helpers/source.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { FileSink } from '../../src/sinks/file.js';
import { silentLogger } from '../../src/log/logger.js';
import type { LoadedSource } from '../../src/config/load.js';
import { ParseThreads } from '../../src/pipeline/parse-threads.js';

const KEYS = ['a', 'b', 'c', 'd'].map((name, index) => trailKey('2026/11/23', `20261123T100${index}Z`, name));

describe('faults between s3pull and S3', function () {
  this.timeout(60_000);
  let h: Harness;
  let faulty: FaultyS3;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', KEYS.map((key, index) => ({ key, body: cloudTrailFile(`o${index}`, 700) })));
    faulty = await startFaultyS3(motoEndpoint());
    h = harness();
  });
  afterEach(async () => {
    h.close();
    await faulty.close();
  });

  /** A poll with the SDK's own retry strategy (5 attempts), as in production. */
  const poll = async (source: LoadedSource, clock = new ShiftedClock(), parseThreads?: ParseThreads) => {
    const bucket = createS3Bucket(s3BucketOptionsFor(source));
    try {
      return await pollSource(source, { store: h.store, sink: h.sink, bucket, clock, log: silentLogger, parseThreads }, new AbortController().signal);
    } finally {
      bucket.destroy();
    }
  };

  it('503 SlowDown, 500, reset connections, bodies cut in the middle or trickled: every event arrives once, nothing is marked failed', async () => {
    faulty.applies = (method, url) => method === 'GET' && url.includes('.json.gz');
    faulty.queue = ['slowdown', 'internal', 'reset', 'slowdown', 'reset-mid-body', 'slow-body', 'internal', 'reset-mid-body', 'slow-body'];
    const clock = new ShiftedClock(2 * HOUR);
    const result = await poll(testSource({ endpoint: faulty.url, concurrency: 2 }), clock);
    expect(faulty.queue, 'every fault was injected').to.deep.equal([]);
    expect(result.status).to.equal('ok');
    const ids = h.sink.eventIds();
    expect(ids).to.have.length(4 * 700);
    expect(new Set(ids).size).to.equal(4 * 700);
    expect(h.store.failedObjects('trail')).to.deep.equal([]);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(KEYS[3]);
  });

  for (const threads of [0, 1]) {
    it(`a server that stops answering, before the headers or in the middle of a body, is given up after request_timeout and tried again (parse_threads ${threads}): nothing hangs, every event arrives once`, async () => {
      faulty.applies = (method, url) => method === 'GET' && url.includes('.json.gz');
      faulty.queue = ['stall-mid-body', 'stall', 'stall-mid-body'];
      const parseThreads = threads > 0 ? new ParseThreads(threads) : undefined;
      try {
        const result = await poll(testSource({ endpoint: faulty.url, concurrency: 2, request_timeout: '1s' }), new ShiftedClock(2 * HOUR), parseThreads);
        expect(faulty.queue, 'every fault was injected').to.deep.equal([]);
        expect(result.status).to.equal('ok');
      } finally {
        await parseThreads?.close();
      }
      const ids = h.sink.eventIds();
      expect(ids).to.have.length(4 * 700);
      expect(new Set(ids).size).to.equal(4 * 700);
      expect(h.store.failedObjects('trail')).to.deep.equal([]);
    });
  }

  it('throttled and failing listings are retried by the SDK with backoff', async () => {
    faulty.applies = (_method, url) => url.includes('list-type=2');
    // Three in a row, within the SDK's five attempts of one request.
    faulty.queue = ['slowdown', 'internal', 'slowdown'];
    const result = await poll(testSource({ endpoint: faulty.url }));
    expect(faulty.injected).to.deep.equal(['slowdown', 'internal', 'slowdown']);
    // Retried by the SDK's strategy (it numbers its attempts and backs off between them), not by a loop of ours.
    expect(faulty.attempts.slice(0, 4).map((header) => /attempt=(\d+)/.exec(header)?.[1])).to.deep.equal(['1', '2', '3', '4']);
    expect(result.status).to.equal('ok');
    expect(h.sink.lines).to.have.length(4 * 700);
  });

  it('an endpoint that goes away keeps the marker; the next poll after it is back delivers everything', async () => {
    const port = faulty.port;
    await faulty.close();
    const source = testSource({ endpoint: faulty.url });
    const down = await poll(source);
    expect(down.status).to.equal('failed');
    expect(down.errors[0]).to.match(/ECONNREFUSED/);
    expect(h.sink.lines).to.have.length(0);

    faulty = await startFaultyS3(motoEndpoint(), port);
    const back = await poll(source);
    expect(back.status).to.equal('ok');
    expect(h.sink.lines).to.have.length(4 * 700);
  });

  it('an output that cannot be written pauses the source without moving the marker, and it recovers by itself', async () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'out');
    writeFileSync(blocker, ''); // a file where the output folder should be
    const sink = new FileSink(path.join(blocker, 'events.ndjson'));
    const source = testSource({ concurrency: 1 });
    const bucket = createS3Bucket(s3BucketOptionsFor(source));
    const clock = new ShiftedClock(2 * HOUR);
    try {
      const blocked = await pollSource(source, { store: h.store, sink, bucket, clock, log: silentLogger }, new AbortController().signal);
      expect(blocked.status).to.equal('failed');
      expect(blocked.errors[0]).to.contain(`cannot write to ${path.join(blocker, 'events.ndjson')}`);
      expect(h.store.partitions('trail')[0]!.settledKey).to.equal('');
      expect(h.store.failedObjects('trail')).to.deep.equal([]);

      rmSync(blocker);
      mkdirSync(blocker);
      const recovered = await pollSource(source, { store: h.store, sink, bucket, clock, log: silentLogger }, new AbortController().signal);
      expect(recovered.status).to.equal('ok');
      expect(recovered.events).to.equal(4 * 700);
      expect(h.store.partitions('trail')[0]!.settledKey).to.equal(KEYS[3]);
    } finally {
      bucket.destroy();
      await sink.close();
    }
  });
});
