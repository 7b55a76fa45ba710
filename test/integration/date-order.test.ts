import { expect } from 'chai';
import { freshTrailBucket, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { putObjects, cloudTrailFile } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { dateSortKey } from '../../src/poll/date-order.js';

const PARTITION = 'AWSLogs/111122223333/Config/us-east-1/';
const config = (date: string, name: string) => `${PARTITION}${date}/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_AWS::S3::Bucket_${name}.json.gz`;

describe('date folders without leading zeros (AWS Config)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('pads date folders for comparison only', () => {
    expect(dateSortKey(PARTITION, `${PARTITION}2026/11/9/ConfigHistory/a`)).to.equal(`${PARTITION}2026/11/09/ConfigHistory/a`);
    expect(dateSortKey(PARTITION, `${PARTITION}2026/1/10/x`)).to.equal(`${PARTITION}2026/01/10/x`);
    expect(dateSortKey(PARTITION, 'elsewhere/2026/1/1/x')).to.equal('elsewhere/2026/1/1/x');
  });

  it('orders 2026/11/9/ before 2026/11/10/, so the marker never passes a day that is not done, and later days are pulled', async () => {
    await putObjects('trail-bucket', [
      { key: config('2026/11/9', 'a'), body: cloudTrailFile('day9', 1) },
      { key: config('2026/11/10', 'b'), body: cloudTrailFile('day10', 1) },
    ]);
    const source = testSource({ prefix: 'AWSLogs/111122223333/Config/', format: 'cloudtrail' });
    await h.poll(source, new ShiftedClock(2 * HOUR));
    const [partition] = h.store.partitions('trail');
    expect(partition).to.include({ prefix: PARTITION, unpaddedDates: true });
    // As text, day 9 sorts last; as a date, day 10 is the newest: the marker is there.
    expect(partition!.settledKey).to.equal(config('2026/11/10', 'b'));

    // The 11th sorts before the 9th as text: a text marker at the 9th would never list it.
    await putObjects('trail-bucket', [
      { key: config('2026/11/11', 'c'), body: cloudTrailFile('day11', 1) },
      { key: config('2026/12/1', 'd'), body: cloudTrailFile('dec1', 1) },
    ]);
    const next = await h.poll(source, new ShiftedClock(2 * HOUR));
    expect(next.objectsDone).to.equal(2);
    expect(h.sink.eventIds().sort()).to.deep.equal(['day10-0', 'day11-0', 'day9-0', 'dec1-0']);
    expect(h.store.partitions('trail')[0]!.settledKey).to.equal(config('2026/12/1', 'd'));

    // And nothing is pulled twice.
    const again = await h.poll(source, new ShiftedClock(2 * HOUR));
    expect(again.objectsDone).to.equal(0);

    // History below the marker is pruned by date, not by text: all four go, and still nothing repeats.
    await h.poll(source, new ShiftedClock(10 * 24 * HOUR));
    const all = [config('2026/11/9', 'a'), config('2026/11/10', 'b'), config('2026/11/11', 'c'), config('2026/12/1', 'd')];
    expect(h.store.ledger('trail', 'trail-bucket', all).size).to.equal(0);
    const afterPrune = await h.poll(source, new ShiftedClock(10 * 24 * HOUR));
    expect(afterPrune.objectsDone).to.equal(0);
  });

  it('leaves zero-padded partitions (CloudTrail) in plain text order', async () => {
    const keys = ['2026/11/09/a', '2026/11/10/b'].map((name) => `AWSLogs/111122223333/CloudTrail/us-east-1/${name}.json.gz`);
    await putObjects('trail-bucket', keys.map((key, index) => ({ key, body: cloudTrailFile(String(index), 1) })));
    // One object at a time: with more, two small objects finish in either order.
    await h.poll(testSource({ prefix: 'AWSLogs/111122223333/CloudTrail/', concurrency: 1 }), new ShiftedClock(2 * HOUR));
    expect(h.store.partitions('trail')[0]).to.include({ unpaddedDates: false, settledKey: keys[1] });
    expect(h.sink.eventIds()).to.deep.equal(['0-0', '1-0']);
  });
});
