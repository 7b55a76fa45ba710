/**
 * Backfill and replay jobs (issue 14, items 2 and 3) against a bucket in memory and a real state
 * file: which folders they list, what they take as delivered (the ledger, and the marker once
 * the ledger's rows are pruned), that the live marker stays, and how a job resumes.
 */
import { expect } from 'chai';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FakeBucket } from '../helpers/fake-bucket.js';
import { MemorySink } from '../helpers/memory-sink.js';
import { tempDir } from '../helpers/source.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import { sourceSchema } from '../../src/config/schema.js';
import type { LoadedSource } from '../../src/config/load.js';
import { pollSource } from '../../src/poll/poll-source.js';
import { runJob, type JobRequest } from '../../src/backfill/run-job.js';
import { dayFolder, daysOf, utcDayOf } from '../../src/backfill/day-folders.js';
import { dayOfKey } from '../../src/util/day-of-key.js';
import { silentLogger } from '../../src/log/logger.js';
import { systemClock } from '../../src/util/clock.js';

const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const key = (day: number, suffix: string) => `${PREFIX}2026/11/${String(day).padStart(2, '0')}/111122223333_CloudTrail_us-east-1_202611${String(day).padStart(2, '0')}T1000Z_${suffix}.json.gz`;
const trail = (marker: string, records: number) => gzipSync(JSON.stringify({ Records: Array.from({ length: records }, (_, index) => ({ eventTime: '2026-11-23T10:00:00Z', eventID: `${marker}-${index}` })) }));

function source(overrides: Record<string, unknown> = {}): LoadedSource {
  const parsed = sourceSchema.parse({ id: 'trail', bucket: 'fake-bucket', prefix: PREFIX, region: 'us-east-1', format: 'cloudtrail', eps_throttle: 0, late_window: '1m', ...overrides });
  return { ...parsed, file: 'test', proxy: 'none' };
}

const backfill = (fromDay: string, toDay: string): JobRequest => ({ kind: 'backfill', fromDay, toDay, output: null });
const replay = (fromDay: string, toDay: string): JobRequest => ({ kind: 'replay', fromDay, toDay, output: 'copy' });

describe('backfill and replay jobs', () => {
  let store: Store;
  let bucket: FakeBucket;
  let sink: MemorySink;
  /** Written three hours ago: older than the late window, so the live marker settles past them. */
  const written = new Date(Date.now() - 3 * HOUR);
  beforeEach(() => {
    store = openSqliteStore(path.join(tempDir(), 'state.db'));
    bucket = new FakeBucket(2);
    sink = new MemorySink();
    for (let day = 1; day <= 30; day += 1) for (const suffix of ['a', 'b']) bucket.put(key(day, suffix), trail(`d${day}${suffix}`, 2), written);
  });
  afterEach(() => store.close());

  const job = (request: JobRequest, src = source(), output = sink, signal = new AbortController().signal) =>
    runJob(src, request, { store, sink: output, bucket, clock: systemClock, log: silentLogger, leaseRetryMs: 5 }, signal);
  const poll = (src = source()) => pollSource(src, { store, sink, bucket, clock: systemClock, log: silentLogger }, new AbortController().signal);

  it('day folders: dates and times give their UTC day, impossible days are refused, unpadded folders are written without zeros', () => {
    expect(utcDayOf('2026-11-17')).to.equal('2026-11-17');
    expect(utcDayOf('2026-11-17T23:30:00-02:00')).to.equal('2026-11-18');
    expect(utcDayOf('2026-02-30')).to.equal(undefined);
    expect(utcDayOf('last week')).to.equal(undefined);
    expect(daysOf('2026-11-29', '2026-12-02')).to.deep.equal(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    expect(dayFolder('Config/', '2026-11-09', true)).to.equal('Config/2026/11/9/');
    expect(dayFolder(PREFIX, '2026-11-09', false)).to.equal(`${PREFIX}2026/11/09/`);
    expect(dayOfKey('Config/', 'Config/2026/11/9/x.json.gz')).to.equal('2026-11-09');
    expect(dayOfKey(PREFIX, `${PREFIX}x.json.gz`)).to.equal(undefined);
  });

  it('lists only the day folders of the range, pulls every object there, and records the objects in the live ledger so the poll does not pull them again', async () => {
    const result = await job(backfill('2026-11-10', '2026-11-16'));
    expect(result.status).to.equal('done');
    expect(bucket.listings.map((listing) => listing.prefix)).to.deep.equal(daysOf('2026-11-10', '2026-11-16').map((day) => dayFolder(PREFIX, day, false)));
    expect(result.objectsDone).to.equal(14);
    expect(new Set(sink.eventIds()).size).to.equal(28);
    expect(store.getJob(result.job!.jobId)!.finishedMs).to.be.a('number');

    sink.lines.length = 0;
    const live = await poll();
    expect(live.objectsDone).to.equal(46);
    expect(sink.eventIds().filter((id) => /^d1[0-6]/.test(id))).to.deep.equal([]);
  });

  it('beside the live marker: leaves the marker where it was, and pulls what the ledger has not, even objects the start filter skipped', async () => {
    await poll(source({ start: { since: new Date(Date.now() - HOUR).toISOString() } }));
    expect(sink.lines).to.have.length(0);
    const settled = store.partitions('trail')[0]!.settledKey;
    expect(settled).to.contain('2026/11/30/');

    const result = await job(backfill('2026-11-20', '2026-11-21'));
    expect(result.objectsDone).to.equal(4);
    expect(store.partitions('trail')[0]!.settledKey).to.equal(settled);
  });

  it('once the ledger rows are pruned, takes objects written before the marker left their day as delivered, and pulls one that arrived after', async () => {
    await poll();
    expect(sink.lines).to.have.length(120);
    // history_retention passed: the rows below the marker go, the marker's record of days stays.
    expect(store.pruneHistory('trail', Date.now() + DAY, () => true)).to.equal(60);
    const late = key(12, 'late');
    bucket.put(late, trail('late', 3), new Date(Date.now() + 5 * 60_000));
    sink.lines.length = 0;

    const result = await job(backfill('2026-11-10', '2026-11-16'));
    expect(result.status).to.equal('done');
    expect(result.alreadyDone).to.equal(14);
    expect(sink.eventIds()).to.deep.equal(['late-0', 'late-1', 'late-2']);
  });

  it('resumes a job broken off: finished folders are not listed again, and no object is delivered twice', async () => {
    const controller = new AbortController();
    let folders = 0;
    const first = runJob(
      source(),
      backfill('2026-11-01', '2026-11-07'),
      {
        store,
        sink,
        bucket,
        clock: systemClock,
        log: silentLogger,
        onFolderDone: () => {
          folders += 1;
          if (folders === 3) controller.abort();
        },
      },
      controller.signal,
    );
    const stopped = await first;
    expect(stopped.status).to.equal('aborted');
    expect(stopped.foldersDone).to.equal(3);
    bucket.listings.length = 0;

    const resumed = await job(backfill('2026-11-01', '2026-11-07'));
    expect(resumed.resumed).to.equal(true);
    expect(resumed.job!.jobId).to.equal(stopped.job!.jobId);
    expect(resumed.status).to.equal('done');
    expect(bucket.listings.map((listing) => listing.prefix)).to.deep.equal(daysOf('2026-11-04', '2026-11-07').map((day) => dayFolder(PREFIX, day, false)));
    const ids = sink.eventIds();
    expect(ids).to.have.length(28);
    expect(new Set(ids).size).to.equal(28);
    // Finished, the same command is a new job (that finds everything delivered).
    const again = await job(backfill('2026-11-01', '2026-11-07'));
    expect(again.resumed).to.equal(false);
    expect(again.objectsDone).to.equal(0);
    expect(again.alreadyDone).to.equal(14);
  });

  it('waits for the live poll holding the source, and pulls once it is let go', async () => {
    expect(store.openSource('trail', '{"endpoint":"aws","bucket":"fake-bucket","prefix":"' + PREFIX + '"}', null, Date.now()).created).to.equal(true);
    expect(store.acquireLease('trail', 'other-host:1', Date.now(), Date.now() + HOUR).held).to.equal(true);
    let waited = false;
    const running = runJob(source(), backfill('2026-11-01', '2026-11-01'), { store, sink, bucket, clock: systemClock, log: silentLogger, leaseRetryMs: 5 }, new AbortController().signal);
    // The job asks again and again while the other holds it; nothing is pulled meanwhile.
    await new Promise<void>((resolve) => {
      const check = () => {
        if (bucket.listings.length > 0 && bucket.gets.length === 0) {
          waited = true;
          store.releaseLease('trail', 'other-host:1');
          resolve();
        } else setImmediate(check);
      };
      check();
    });
    const result = await running;
    expect(waited).to.equal(true);
    expect(result.objectsDone).to.equal(2);
  });

  it('replay delivers every object of the range again, with the same event ids, and leaves the live ledger and marker as they were', async () => {
    await poll();
    const live = sink.events().filter((event) => event.key.includes('/2026/11/15/'));
    const partitions = store.partitions('trail');
    const ledgerBefore = store.ledger('trail', 'fake-bucket', [key(15, 'a'), key(15, 'b')]);
    const copy = new MemorySink();

    const result = await job(replay('2026-11-15', '2026-11-15'), source(), copy);
    expect(result.status).to.equal('done');
    expect(result.objectsDone).to.equal(2);
    expect(copy.events().map((event) => event.id)).to.deep.equal(live.map((event) => event.id));
    expect(store.partitions('trail')).to.deep.equal(partitions);
    expect(store.ledger('trail', 'fake-bucket', [key(15, 'a'), key(15, 'b')])).to.deep.equal(ledgerBefore);
    expect(store.getSource('trail')!.objectsDone).to.equal(60);
  });
});
