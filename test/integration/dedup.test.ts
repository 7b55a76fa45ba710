import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { freshTrailBucket, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { putObjects, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';

/** A CloudTrail file whose events have the given ids (CloudTrail repeats global events across files). */
function trailFileWithIds(ids: string[], account = '111122223333'): Buffer {
  return gzipSync(
    JSON.stringify({
      Records: ids.map((eventID) => ({ eventTime: '2026-11-23T10:00:00Z', eventSource: 'iam.amazonaws.com', eventName: 'ListUsers', readOnly: true, eventID, recipientAccountId: account })),
    }),
  );
}
const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, index) => `${prefix}-${from + index}`);

describe('dedup: repeated CloudTrail events dropped within a window that survives restarts', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('drops repeats across objects and within one, counts them, and keeps the window across a restart', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: trailFileWithIds(range('x', 0, 600)) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: trailFileWithIds([...range('x', 300, 700), 'x-650']) },
    ]);
    const source = testSource({ dedup: true, concurrency: 1 });
    const first = await h.poll(source);
    expect(first.status).to.equal('ok');
    expect(first.events).to.equal(700);
    expect(first.duplicates).to.equal(301);
    expect(new Set(h.sink.eventIds()).size).to.equal(700);

    h.reopen();
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1010Z', 'cccc'), body: trailFileWithIds(['x-1', 'x-699', 'y-0']) },
      // The same eventID in another account is another event.
      { key: trailKey('2026/11/23', '20261123T1015Z', 'dddd'), body: trailFileWithIds(['x-1'], '444455556666') },
    ]);
    const second = await h.poll(source);
    expect(second.duplicates).to.equal(2);
    expect(h.sink.eventIds().slice(700)).to.deep.equal(['y-0', 'x-1']);
    expect(h.store.getSource('trail')!.duplicates).to.equal(303);
  });

  it('forgets keys after the window, and never drops what a marker reset asks for again', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: trailFileWithIds(range('x', 0, 5)) }]);
    const source = testSource({ dedup: { window: '2h' } });
    await h.poll(source);
    expect(h.sink.eventIds()).to.have.length(5);

    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: trailFileWithIds(['x-0']) }]);
    const later = await h.poll(source, new ShiftedClock(3 * HOUR));
    expect(later.duplicates).to.equal(0);
    expect(h.sink.eventIds()).to.have.length(6);

    h.store.requestReset('trail', { mode: 'beginning' });
    const again = await h.poll(source, new ShiftedClock(3 * HOUR));
    // Everything comes again; only the second file's x-0 repeats the first file's within this pull.
    expect(again.duplicates).to.equal(1);
    expect(h.sink.eventIds().slice(6)).to.deep.equal(range('x', 0, 5));
  });

  it('a retry after a failed output resumes at the right event: repeats hold their positions', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: trailFileWithIds(range('x', 0, 100)) }]);
    const source = testSource({ dedup: true });
    await h.poll(source);
    // 100 repeats first, then 1,200 new events: the output dies after the first batch of 500.
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: trailFileWithIds([...range('x', 0, 100), ...range('z', 0, 1200)]) }]);
    h.sink.failAfterWrites = h.sink.writes + 1;
    const failed = await h.poll(source);
    expect(failed.status).to.equal('failed');
    // The first batch of 500 held the 100 repeats: 400 were delivered and committed.
    expect(h.sink.eventIds().slice(100)).to.deep.equal(range('z', 0, 400));

    h.sink.failAfterWrites = Infinity;
    h.reopen();
    const resumed = await h.poll(source);
    expect(resumed.status).to.equal('ok');
    expect(h.sink.eventIds().slice(100)).to.deep.equal(range('z', 0, 1200));
    expect(h.store.getSource('trail')!.duplicates).to.equal(100);
  });

  it('without dedup every copy is delivered; dedup on another format is a config error', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: trailFileWithIds(['x-0']) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: trailFileWithIds(['x-0']) },
    ]);
    await h.poll(testSource());
    expect(h.sink.eventIds()).to.deep.equal(['x-0', 'x-0']);
    expect(() => testSource({ format: 'vpcflow', dedup: true })).to.throw(/dedup[\s\S]*is for format cloudtrail, not vpcflow/);
  });
});
