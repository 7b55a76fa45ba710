/**
 * The shared object path's decisions, on small fakes of the project's own interfaces: the pure
 * disposition of each error code, and the object worker's order, concurrency and outcomes.
 */
import { expect } from 'chai';
import { dispositionOf } from '../../src/pipeline/disposition.js';
import { ObjectWorker } from '../../src/pipeline/object-worker.js';
import type { AttemptFailure, Checkpoint, FailureRecord } from '../../src/pipeline/checkpoint.js';
import type { ObjectRef } from '../../src/aws/types.js';
import type { PullOutcome } from '../../src/pipeline/pull-object.js';
import {
  ObjectChangedError, ObjectDataError, ObjectGoneError, OutputRefusedError, OutputUnavailableError, RejectedEventsError,
  S3AccessError, SinkError, StateError, TransientS3Error, QueueTransientError,
} from '../../src/util/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { ShiftedClock } from '../helpers/harness.js';

const ref = (key: string): ObjectRef => ({ bucket: 'b', key, etag: 'e', size: 1, lastModified: new Date(0) });

/** Records what the worker told it; quarantines after `maxAttempts` counted failures. */
class FakeCheckpoint implements Checkpoint {
  readonly failures: { key: string; failure: AttemptFailure }[] = [];
  private readonly attempts = new Map<string, number>();
  constructor(private readonly maxAttempts = 2) {}
  begin() {
    return { events: 0, badLines: 0, duplicates: 0, decodedBytes: 0 };
  }
  progress() {}
  complete() {}
  fail(object: ObjectRef, failure: AttemptFailure): FailureRecord {
    this.failures.push({ key: object.key, failure });
    if (failure.kind === 'retry_later') return { quarantined: false, attempts: 0, nextAttemptMs: null };
    const attempts = (this.attempts.get(object.key) ?? 0) + 1;
    this.attempts.set(object.key, attempts);
    return { quarantined: failure.kind === 'object_gone' || attempts >= this.maxAttempts, attempts, nextAttemptMs: 60_000 };
  }
}

function worker(pull: (object: ObjectRef) => Promise<PullOutcome>, concurrency = 2, controller = new AbortController()) {
  return new ObjectWorker({ concurrency, clock: new ShiftedClock(), log: silentLogger, signal: controller.signal, pull: (object) => pull(object) });
}

const done = { events: 1, badLines: 0, duplicates: 0, decodedBytes: 0 };

describe('the object path', () => {
  it('dispositionOf decides by the error code alone', () => {
    expect(dispositionOf(Object.assign(new Error('x'), { name: 'AbortError' }))).to.equal('stop');
    expect(dispositionOf(new SinkError('output gave up'))).to.equal('stop');
    expect(dispositionOf(new OutputUnavailableError('down'))).to.equal('stop');
    expect(dispositionOf(new OutputRefusedError('refused'))).to.equal('stop');
    expect(dispositionOf(new StateError('STATE_DISK_FULL', 'full'))).to.equal('stop');
    expect(dispositionOf(new ObjectGoneError('gone'))).to.equal('object_gone');
    expect(dispositionOf(new ObjectChangedError('changed'))).to.equal('retry_later');
    expect(dispositionOf(new TransientS3Error('slow down'))).to.equal('retry_now');
    expect(dispositionOf(new QueueTransientError('sqs 500'))).to.equal('retry_now');
    expect(dispositionOf(new ObjectDataError('not gzip'))).to.equal('attempt_failed');
    expect(dispositionOf(new RejectedEventsError('mapping'))).to.equal('attempt_failed');
    expect(dispositionOf(new S3AccessError('S3_ACCESS_DENIED', 'denied'))).to.equal('attempt_failed');
    expect(dispositionOf(new TypeError('a bug'))).to.equal('attempt_failed');
    // The message text plays no part: the same words under another code decide nothing.
    expect(dispositionOf(new ObjectDataError('S3_OBJECT_CHANGED SINK_FAILED'))).to.equal('attempt_failed');
  });

  it('starts objects in the order handed in, never more than concurrency at once', async () => {
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const w = worker(async (object) => {
      started.push(object.key);
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return done;
    }, 3);
    const checkpoint = new FakeCheckpoint();
    const outcomes = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((key) => w.pull(ref(key), checkpoint)));
    expect(started).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(most).to.equal(3);
    expect(outcomes.every((outcome) => outcome.status === 'done')).to.equal(true);
  });

  it('retries a broken download at once three times, then leaves it for later without counting an attempt', async () => {
    let calls = 0;
    const checkpoint = new FakeCheckpoint();
    const w = worker(async () => {
      calls += 1;
      throw new TransientS3Error('connection reset');
    });
    const outcome = await w.pull(ref('k'), checkpoint);
    expect(calls).to.equal(4);
    expect(outcome).to.include({ status: 'retry_later', changed: false, attempts: 0 });
    expect(checkpoint.failures.every(({ failure }) => failure.kind === 'retry_later')).to.equal(true);
  });

  it('a broken download that recovers is done', async () => {
    let calls = 0;
    const outcome = await worker(async () => {
      calls += 1;
      if (calls < 3) throw new TransientS3Error('reset');
      return done;
    }).pull(ref('k'), new FakeCheckpoint());
    expect(outcome.status).to.equal('done');
  });

  it("counts the object's own failures and quarantines it at max_attempts; a gone object at once", async () => {
    const checkpoint = new FakeCheckpoint(2);
    const w = worker(async (object) => {
      throw object.key === 'gone' ? new ObjectGoneError('no such key') : new ObjectDataError('not gzip');
    });
    expect(await w.pull(ref('bad'), checkpoint)).to.include({ status: 'retry_later', attempts: 1, nextAttemptMs: 60_000 });
    expect(await w.pull(ref('bad'), checkpoint)).to.include({ status: 'quarantined', gone: false });
    expect(await w.pull(ref('gone'), checkpoint)).to.include({ status: 'quarantined', gone: true });
  });

  it('an object rewritten since it was announced waits for later, marked as changed', async () => {
    const outcome = await worker(async () => {
      throw new ObjectChangedError('changed');
    }).pull(ref('k'), new FakeCheckpoint());
    expect(outcome).to.include({ status: 'retry_later', changed: true });
  });

  it('stops on an output failure: objects not begun are not tried, until resume()', async () => {
    const tried: string[] = [];
    let failing = true;
    const w = worker(async (object) => {
      tried.push(object.key);
      if (failing) throw new SinkError('receiver down');
      return done;
    }, 1);
    const checkpoint = new FakeCheckpoint();
    const outcomes = await Promise.all([ref('a'), ref('b'), ref('c')].map((object) => w.pull(object, checkpoint)));
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(['stopped', 'stopped', 'stopped']);
    expect(tried).to.deep.equal(['a']);
    expect(w.stopReason).to.be.instanceOf(SinkError);
    failing = false;
    w.resume();
    expect((await w.pull(ref('b'), new FakeCheckpoint())).status).to.equal('done');
  });

  it('an object another runner of the source is pulling (the queue and its reconcile listing) is not pulled twice at once', async () => {
    const inFlight = new Set<string>();
    let release!: () => void;
    const first = new ObjectWorker({ concurrency: 1, clock: new ShiftedClock(), log: silentLogger, signal: new AbortController().signal, inFlight, pull: () => new Promise((resolve) => (release = () => resolve(done))) });
    const second = new ObjectWorker({ concurrency: 1, clock: new ShiftedClock(), log: silentLogger, signal: new AbortController().signal, inFlight, pull: async () => done });
    const pulling = first.pull(ref('k'), new FakeCheckpoint());
    await new Promise((resolve) => setImmediate(resolve));
    expect((await second.pull(ref('k'), new FakeCheckpoint())).status).to.equal('busy');
    release();
    expect((await pulling).status).to.equal('done');
    expect((await second.pull(ref('k'), new FakeCheckpoint())).status).to.equal('done');
  });

  it('whatever fails after the stop signal is a stop, not the object’s failure', async () => {
    const controller = new AbortController();
    const checkpoint = new FakeCheckpoint();
    const w = worker(async () => {
      controller.abort();
      throw new ObjectDataError('cut off by the shutdown');
    }, 1, controller);
    expect((await w.pull(ref('k'), checkpoint)).status).to.equal('stopped');
    expect(checkpoint.failures).to.have.length(0);
  });
});
