/**
 * SQS collection by real s3pull processes (the CLI, node itself, no wrapper): killed with SIGKILL
 * at random moments, and three `run` processes sharing one queue, each with its own state.
 */
import { expect } from 'chai';
// The kill points come from this seed; a failure names it, and S3PULL_TEST_SEED replays it.
import { SEED, seeded } from '../helpers/seeded.js';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { RunningCli, writeConfig } from '../helpers/cli.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { createQueue, notifyQueue, queueDepth } from '../helpers/sqs.js';
import { BATCH_EVENTS } from '../../src/pipeline/pull-object.js';

function sqsSourceYaml(queueUrl: string, extra = ''): string {
  return `id: trail
region: us-east-1
endpoint: ${motoEndpoint()}
path_style: true
auth: { type: access_key, access_key_id: AKIATEST, secret_access_key: testsecret }
format: cloudtrail
eps_throttle: 0
concurrency: 4
collection: { type: sqs, queue_url: ${queueUrl}, wait_time: 1s, visibility_timeout: 10s, workers: 8 }
${extra}`;
}

function eventCounts(files: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const id = (JSON.parse(line) as { event: { eventID: string } }).event.eventID;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** Polls the queue (an outside server: there is no event to await) until it holds nothing, visible or in flight. */
async function untilQueueEmpty(url: string, deadlineMs: number): Promise<void> {
  for (;;) {
    const depth = await queueDepth(url);
    if (depth.visible === 0 && depth.inFlight === 0) return;
    if (Date.now() > deadlineMs) throw new Error(`the queue still holds ${depth.visible} visible and ${depth.inFlight} in-flight messages`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('SQS collection by real processes', function () {
  this.timeout(600_000);

  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
  });

  it('SIGKILL at random moments loses nothing and repeats at most one batch per object in flight per kill', async () => {
    const OBJECTS = 150;
    const EVENTS = 600; // two batches each, so kills land inside objects too
    const KILLS = 6;
    const queue = await createQueue('trail-kill');
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', Array.from({ length: OBJECTS }, (_, index) => ({ key: trailKey('2026/11/23', '20261123T1000Z', `k${String(index).padStart(4, '0')}`), body: cloudTrailFile(`k${index}`, EVENTS) })), 32);
    const dir = writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\nlog: { level: debug }\n', { 'a.yaml': sqsSourceYaml(queue.url) });

    const random = seeded(SEED);
    let kills = 0;
    for (let round = 0; round < KILLS; round += 1) {
      const run = new RunningCli(['run', '--config', dir]);
      const after = 1 + Math.floor(random() * 20);
      const reached = await run
        .waitForCount('object done', after, 0, 120_000)
        .then(() => true)
        .catch(() => false);
      run.child.kill('SIGKILL');
      await run.exited;
      if (!reached) break;
      kills += 1;
    }
    // What the killed processes held comes back when its visibility runs out; a last run takes it all.
    const last = new RunningCli(['run', '--config', dir]);
    await untilQueueEmpty(queue.url, Date.now() + 240_000);
    last.child.kill('SIGTERM');
    expect(await last.exitWithin(30_000)).to.equal(0);

    const counts = eventCounts([path.join(dir, 'events.ndjson')]);
    expect(counts.size, `every event delivered (seed ${SEED})`).to.equal(OBJECTS * EVENTS);
    const repeats = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(`      seed ${SEED}: ${kills} SIGKILLs, ${repeats} repeated events of ${OBJECTS * EVENTS} (bound ${kills * 4 * BATCH_EVENTS})`);
    expect(kills).to.be.greaterThan(0);
    expect(repeats, `seed ${SEED}`).to.be.at.most(kills * 4 * BATCH_EVENTS);
  });

  it('three run processes share one queue of 1,000 objects: every event delivered, the repeats counted', async () => {
    const OBJECTS = 1000;
    const EVENTS = 5;
    const queue = await createQueue('trail-three');
    await notifyQueue('trail-bucket', queue.arn);
    await putObjects('trail-bucket', Array.from({ length: OBJECTS }, (_, index) => ({ key: trailKey('2026/11/23', '20261123T1000Z', `t${String(index).padStart(4, '0')}`), body: cloudTrailFile(`t${index}`, EVENTS) })), 32);
    const dirs = [0, 1, 2].map(() => writeConfig('state: state.db\noutput: { type: file, path: events.ndjson }\n', { 'a.yaml': sqsSourceYaml(queue.url) }));
    const runs = dirs.map((dir) => new RunningCli(['run', '--config', dir]));
    await untilQueueEmpty(queue.url, Date.now() + 240_000);
    for (const run of runs) run.child.kill('SIGTERM');
    for (const run of runs) expect(await run.exitWithin(30_000)).to.equal(0);

    const files = dirs.map((dir) => path.join(dir, 'events.ndjson'));
    const counts = eventCounts(files);
    expect(counts.size).to.equal(OBJECTS * EVENTS);
    const repeats = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    const shares = files.map((file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0));
    console.log(`      three processes: events per process ${shares.join(' / ')}, ${repeats} repeated`);
    expect(shares.filter((share) => share > 0).length, 'processes that delivered').to.be.greaterThan(1);
    // A standard queue delivers at least once: now and then SQS (moto too, under concurrent
    // receives) hands one message to two consumers. Each process keeps its own state, so such a
    // repeat is a whole object delivered by two processes, never twice by one: the event ids let
    // the SIEM drop it.
    for (const [index, file] of files.entries()) {
      const own = eventCounts([file]);
      const twice = [...own].filter(([, count]) => count > 1).map(([id]) => id);
      expect(twice, `events process ${index + 1} delivered twice`).to.deep.equal([]);
    }
    expect(repeats % EVENTS, 'repeats are whole objects').to.equal(0);
    expect(repeats, 'repeats').to.be.below(OBJECTS * EVENTS * 0.05);
  });
});
