/**
 * `s3pull backfill` on moto (issue 14, items 2 and 3): a week of a 30-day bucket listed by its
 * day folders only (the LIST requests counted at a front before moto), killed with SIGKILL and
 * finished by the next run; a replay of a day to a second output with the same ids, the live
 * state untouched; and a backfill beside a running service, which it waits for.
 */
import { expect } from 'chai';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RunningCli, runCli, writeConfig } from '../helpers/cli.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey, TRAIL_PREFIX } from '../helpers/s3.js';
import { startFaultyS3, type FaultyS3 } from '../helpers/faulty-s3.js';
import { BATCH_EVENTS } from '../../src/pipeline/pull-object.js';

const DAYS = 30;
const PER_DAY = 4;
const EVENTS = 100;
const CONCURRENCY = 2;
const day = (n: number) => `2026/11/${String(n).padStart(2, '0')}`;

function trailSource(endpoint: string, extra = ''): string {
  return `id: trail\nbucket: trail-bucket\nprefix: ${TRAIL_PREFIX}\nregion: us-east-1\nendpoint: ${endpoint}\npath_style: true\nauth: { type: access_key, access_key_id: AKIATEST, secret_access_key: testsecret }\nformat: cloudtrail\neps_throttle: 0\nconcurrency: ${CONCURRENCY}\n${extra}`;
}

function delivered(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const id = (JSON.parse(line) as { event: { eventID: string } }).event.eventID;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The ListObjectsV2 requests that reached S3: their prefix, and whether they asked for folders. */
function listings(paths: string[]): { prefix: string; folders: boolean }[] {
  return paths
    .map((request) => new URL(request, 'http://s3.local'))
    .filter((url) => url.searchParams.get('list-type') === '2')
    .map((url) => ({ prefix: url.searchParams.get('prefix') ?? '', folders: url.searchParams.has('delimiter') }));
}

describe('s3pull backfill', function () {
  this.timeout(300_000);
  let front: FaultyS3;
  let requests: string[];
  before(async () => {
    front = await startFaultyS3(motoEndpoint());
  });
  after(async () => front.close());
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    const objects = [];
    for (let n = 1; n <= DAYS; n += 1) {
      for (let index = 0; index < PER_DAY; index += 1) {
        objects.push({ key: trailKey(day(n), `202611${String(n).padStart(2, '0')}T${String(10 + index).padStart(2, '0')}00Z`, `o${index}`), body: cloudTrailFile(`d${n}o${index}`, EVENTS) });
      }
    }
    await putObjects('trail-bucket', objects, 32);
    requests = [];
    front.queue = [];
    front.applies = (_method, request) => {
      requests.push(request);
      return false;
    };
  });

  it('a week of a 30-day bucket: lists only its 7 day folders, survives SIGKILL halfway, and finishes at the next run with every event delivered', async () => {
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: debug }\n', { 'trail.yaml': trailSource(front.url) });
    const args = ['backfill', 'trail', '--from', '2026-11-10', '--to', '2026-11-16', '--config', dir];
    const first = new RunningCli(args);
    await first.waitForCount('object done', 12);
    first.child.kill('SIGKILL');
    await first.exited;
    const partly = delivered(path.join(dir, 'events.ndjson'));
    expect(partly.size).to.be.above(0).and.below(7 * PER_DAY * EVENTS);

    const second = await runCli(args);
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    expect(second.stdout).to.match(/backfill of trail, 2026-11-10 to 2026-11-16, .*\(job #1, resumed\): done/);
    expect(second.stdout).to.match(/folders done\s+7 of 7\n/);

    const counts = delivered(path.join(dir, 'events.ndjson'));
    const inRange = [...counts.keys()].filter((id) => /^d1[0-6]o/.test(id));
    expect(counts.size, 'only the range is delivered').to.equal(inRange.length);
    expect(counts.size, 'every event of the range').to.equal(7 * PER_DAY * EVENTS);
    const repeats = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(repeats, 'at most a batch per object in flight at the kill').to.be.at.most(CONCURRENCY * BATCH_EVENTS);

    const folders = Array.from({ length: 7 }, (_, index) => `${TRAIL_PREFIX}${day(10 + index)}/`);
    const listed = listings(requests);
    const objectListings = listed.filter((listing) => !listing.folders).map((listing) => listing.prefix);
    expect(objectListings.length, 'the folders the first run had not finished are listed again, no others').to.be.within(7, 14);
    expect([...new Set(objectListings)].sort()).to.deep.equal(folders);
    // Folder listings (Delimiter "/") find the partition; none lists objects of another day.
    for (const listing of listed.filter((item) => item.folders)) expect(TRAIL_PREFIX.startsWith(listing.prefix) || /\/\d{4}\/(\d{2}\/)?$/.test(listing.prefix), listing.prefix).to.equal(true);
  });

  it('replays a day to a second output with the same event ids, leaving the live marker and ledger as they were; --output needs --again and a defined output', async () => {
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\noutputs:\n  copy: { type: file, path: copy.ndjson }\n', { 'trail.yaml': trailSource(motoEndpoint()) });
    expect((await runCli(['once', '--config', dir])).code).to.equal(0);
    const state = () => {
      const db = new Database(path.join(dir, 'state.db'), { readonly: true });
      try {
        return {
          partitions: db.prepare('SELECT prefix, settled_key FROM partitions ORDER BY prefix').all(),
          objects: db.prepare('SELECT key, status, events, updated_ms FROM objects ORDER BY key').all(),
          counters: db.prepare('SELECT objects_done, events FROM sources').all(),
        };
      } finally {
        db.close();
      }
    };
    const before = state();

    const refused = await runCli(['backfill', 'trail', '--from', '2026-11-15', '--to', '2026-11-15', '--output', 'copy', '--config', dir]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.contain('--output needs --again');
    const unknown = await runCli(['backfill', 'trail', '--from', '2026-11-15', '--again', '--output', 'siem2', '--config', dir]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('s3pull.yaml has no such output under outputs: (copy)');

    const replayed = await runCli(['backfill', 'trail', '--from', '2026-11-15', '--to', '2026-11-15', '--again', '--output', 'copy', '--config', dir]);
    expect(replayed.code, replayed.stdout + replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.match(/replay of trail, 2026-11-15 to 2026-11-15, to file .*copy\.ndjson.*: done/);
    expect(replayed.stdout).to.match(/objects delivered\s+4\n/);

    const ids = (file: string) =>
      readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; key: string })
        .filter((event) => event.key.includes('/2026/11/15/'))
        .map((event) => event.id)
        .sort();
    expect(ids('copy.ndjson')).to.have.length(PER_DAY * EVENTS);
    expect(ids('copy.ndjson')).to.deep.equal(ids('events.ndjson'));
    expect(readFileSync(path.join(dir, 'copy.ndjson'), 'utf8').split('\n').filter(Boolean)).to.have.length(PER_DAY * EVENTS);
    expect(state()).to.deep.equal(before);
  });

  it('a replay stopped by SIGTERM ends at its next batch, says how to resume (exit 1), and the same command finishes it', async () => {
    // Throttled so that SIGTERM finds it in the middle of the range.
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\noutputs:\n  copy: { type: file, path: copy.ndjson }\nlog: { level: info }\n', {
      'trail.yaml': trailSource(motoEndpoint()).replace('eps_throttle: 0', 'eps_throttle: 800'),
    });
    const args = ['backfill', 'trail', '--from', '2026-11-01', '--to', '2026-11-05', '--again', '--output', 'copy', '--config', dir];
    const first = new RunningCli(args);
    await first.waitFor(/folder done/);
    first.child.kill('SIGTERM');
    expect(await first.exitWithin(30_000)).to.equal(1);
    expect(first.stdout).to.match(/replay of trail, .*: aborted/).and.contain('run the same command again to resume the job');
    expect(first.stderr).to.not.match(/\n\s+at /);

    const second = await runCli(args);
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    expect(second.stdout).to.match(/\(job #1, resumed\): done/);
    const counts = delivered(path.join(dir, 'copy.ndjson'));
    expect(counts.size).to.equal(5 * PER_DAY * EVENTS);
    const repeats = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(repeats, 'SIGTERM commits what was delivered: nothing is delivered twice').to.equal(0);
    expect(existsSync(path.join(dir, 'events.ndjson')), 'the live output is not written').to.equal(false);
  });

  it('beside a running service: waits while the service polls the source, then pulls only what it has not, so every event arrives once', async () => {
    // Throttled, the service's first poll lasts long enough for the backfill to find it holding the source.
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: info }\n', { 'trail.yaml': trailSource(motoEndpoint()).replace('eps_throttle: 0', 'eps_throttle: 1000') });
    const service = new RunningCli(['run', '--log-level', 'debug', '--config', dir]);
    try {
      await service.waitFor(/objects to pull/);
      const backfill = new RunningCli(['backfill', 'trail', '--from', '2026-11-01', '--to', '2026-11-30', '--log-level', 'info', '--config', dir]);
      await backfill.waitFor(/waiting for the source: another poller holds it/);
      expect(await backfill.exitWithin(120_000)).to.equal(0);
      expect(backfill.stdout).to.match(/folders done\s+30 of 30\n/);
      await service.waitFor(/poll finished/);
      const counts = delivered(path.join(dir, 'events.ndjson'));
      expect(counts.size).to.equal(DAYS * PER_DAY * EVENTS);
      expect([...counts.values()].every((count) => count === 1), 'no event twice').to.equal(true);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
