import { expect } from 'chai';
// The kill points come from this seed; a failure names it, and S3PULL_TEST_SEED replays it.
import { SEED, seeded } from '../helpers/seeded.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RunningCli, runCli, writeConfig } from '../helpers/cli.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { BATCH_EVENTS } from '../../src/pipeline/pull-object.js';

const OBJECTS = 400;
const EVENTS_PER_OBJECT = 600; // two batches each, so kills land inside objects too
const CONCURRENCY = 4;
const KILLS = 8;

describe('crash safety: SIGKILL at random moments', function () {
  this.timeout(300_000);

  it('loses nothing, and repeats at most one batch per object in flight per crash', async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects(
      'trail-bucket',
      Array.from({ length: OBJECTS }, (_, index) => ({
        key: trailKey('2026/11/23', `20261123T${String(1000 + Math.floor(index / 60)).padStart(4, '0')}Z`, `o${String(index).padStart(4, '0')}`),
        body: cloudTrailFile(`o${index}`, EVENTS_PER_OBJECT),
      })),
      32,
    );
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: debug }\n', {
      'a.yaml': `id: trail\nbucket: trail-bucket\nprefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nregion: us-east-1\nendpoint: ${motoEndpoint()}\npath_style: true\nauth: { type: access_key, access_key_id: AKIATEST, secret_access_key: testsecret }\nformat: cloudtrail\neps_throttle: 0\nconcurrency: ${CONCURRENCY}\n`,
    });

    let kills = 0;
    const random = seeded(SEED);
    const kinds: number[] = [];
    for (let round = 0; round < KILLS; round += 1) {
      const run = new RunningCli(['once', '--config', dir]);
      // Kill after a random number of finished objects: the others in flight are mid-batch.
      const after = 1 + Math.floor(random() * 30);
      kinds.push(after);
      const finished = await Promise.race([
        run.waitForCount('object done', after).then(() => 'running' as const),
        run.exited.then(() => 'exited' as const),
      ]).catch((error: unknown) => {
        // The pull ending first is fine (nothing left to kill); a pull that stalls is a failure, not a break.
        if (run.child.exitCode !== null) return 'exited' as const;
        throw new Error(`seed ${SEED}, kill ${round + 1} after ${after} objects: ${(error as Error).message}`);
      });
      if (finished === 'exited') break;
      run.child.kill('SIGKILL');
      await run.exited;
      kills += 1;
    }
    const last = await runCli(['once', '--config', dir]);
    expect(last.code, `seed ${SEED}: ${last.stdout}${last.stderr}`).to.equal(0);

    const counts = new Map<string, number>();
    for (const line of readFileSync(path.join(dir, 'events.ndjson'), 'utf8').split('\n')) {
      if (!line) continue;
      const id = (JSON.parse(line) as { event: { eventID: string } }).event.eventID;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size, `every event delivered (seed ${SEED}, kills after ${kinds.join(',')} objects)`).to.equal(OBJECTS * EVENTS_PER_OBJECT);
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(kills).to.be.greaterThan(0);
    console.log(`      seed ${SEED}: ${kills} SIGKILLs, ${duplicates} duplicate events of ${OBJECTS * EVENTS_PER_OBJECT} (bound ${kills * CONCURRENCY * BATCH_EVENTS})`);
    expect(duplicates, `${duplicates} duplicates after ${kills} kills (seed ${SEED})`).to.be.at.most(kills * CONCURRENCY * BATCH_EVENTS);
  });
});
