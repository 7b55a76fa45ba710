import { expect } from 'chai';
import { harness, ShiftedClock, HOUR, type Harness } from '../helpers/harness.js';
import { motoEndpoint, resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { runCli, writeConfig } from '../helpers/cli.js';

const trail = (account: string, region: string, day: string, name: string) => `AWSLogs/${account}/CloudTrail/${region}/2026/11/${day}/${account}_CloudTrail_${region}_202611${day}T1000Z_${name}.json.gz`;

describe('partitions under a wide prefix', () => {
  let h: Harness;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    await putObjects('trail-bucket', [
      { key: trail('111111111111', 'us-east-1', '23', 'a'), body: cloudTrailFile('a', 1) },
      { key: trail('111111111111', 'eu-west-1', '23', 'b'), body: cloudTrailFile('b', 1) },
      { key: trail('222222222222', 'us-east-1', '23', 'c'), body: cloudTrailFile('c', 1) },
      { key: trail('o-abc123def4/333333333333', 'us-east-1', '23', 'd'), body: cloudTrailFile('d', 1) },
      { key: 'AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/11/23/digest.json.gz', body: cloudTrailFile('digest', 1) },
      { key: 'AWSLogs/111111111111/vpcflowlogs/us-east-1/2026/11/23/flow.log.gz', body: 'flow' },
    ]);
    h = harness();
  });
  afterEach(() => h.close());

  const source = () => testSource({ prefix: 'AWSLogs/', file_pattern: '\\.json\\.gz$' });

  it('finds one partition per account, organization account, region and service, each with its own marker', async () => {
    await h.poll(source(), new ShiftedClock(2 * HOUR));
    const partitions = h.store.partitions('trail');
    expect(partitions.map((p) => p.prefix)).to.deep.equal([
      'AWSLogs/111111111111/CloudTrail/eu-west-1/',
      'AWSLogs/111111111111/CloudTrail/us-east-1/',
      'AWSLogs/111111111111/vpcflowlogs/us-east-1/',
      'AWSLogs/222222222222/CloudTrail/us-east-1/',
      'AWSLogs/o-abc123def4/333333333333/CloudTrail/us-east-1/',
    ]);
    expect(partitions.find((p) => p.prefix === 'AWSLogs/222222222222/CloudTrail/us-east-1/')!.settledKey).to.equal(trail('222222222222', 'us-east-1', '23', 'c'));
    expect(h.sink.eventIds().sort()).to.deep.equal(['a-0', 'b-0', 'c-0', 'd-0']);
  });

  it('s3pull sources shows each partition with its marker and lag', async () => {
    const dir = writeConfig(`state: ${h.stateFile}\n`, {
      'a.yaml': `id: trail\nbucket: trail-bucket\nprefix: AWSLogs/\nregion: us-east-1\nendpoint: ${motoEndpoint()}\npath_style: true\nformat: cloudtrail\nfile_pattern: '\\.json\\.gz$'\n`,
    });
    await h.poll(source(), new ShiftedClock(2 * HOUR));
    h.close();
    // A terminal wide enough for whole markers; narrower ones are cut in the middle (unit-tested).
    const status = await runCli(['sources', '--config', dir], { env: { COLUMNS: '300' } });
    h = harness();
    expect(status.stdout).to.match(/^trail\s+5 partitions \(s3pull marker show\)/m);
    // Each marker below its partition's prefix (the line names the prefix already); full keys are in --json.
    const marker = trail('222222222222', 'us-east-1', '23', 'c').slice('AWSLogs/222222222222/CloudTrail/us-east-1/'.length);
    expect(status.stdout).to.contain(`trail: AWSLogs/222222222222/CloudTrail/us-east-1/  marker ${marker}  lag `);
  });

  it('pulls a new file of one account even though another account\'s keys sort after it (a single marker would skip it)', async () => {
    await h.poll(source(), new ShiftedClock(2 * HOUR));
    await putObjects('trail-bucket', [{ key: trail('111111111111', 'us-east-1', '24', 'e'), body: cloudTrailFile('e', 1) }]);
    const next = await h.poll(source(), new ShiftedClock(2 * HOUR));
    expect(next.objectsDone).to.equal(1);
    expect(h.sink.eventIds()).to.include('e-0');
  });

  it('picks up a partition that appears later (a new region) at the next discovery', async () => {
    await h.poll(source(), new ShiftedClock(2 * HOUR));
    await putObjects('trail-bucket', [{ key: trail('111111111111', 'ap-south-1', '23', 'f'), body: cloudTrailFile('f', 1) }]);
    // Within partition_discovery (1h) the known partitions are used as they are: no walk.
    const soon = await h.poll(source(), new ShiftedClock(2 * HOUR + 60_000));
    expect(soon.objectsDone).to.equal(0);
    const later = await h.poll(source(), new ShiftedClock(4 * HOUR));
    expect(later.objectsDone).to.equal(1);
    expect(h.store.partitions('trail').map((p) => p.prefix)).to.include('AWSLogs/111111111111/CloudTrail/ap-south-1/');
  });

  it('a prefix that already names one region is one partition, as JSA requires', async () => {
    await h.poll(testSource({ prefix: 'AWSLogs/111111111111/CloudTrail/us-east-1/' }));
    expect(h.store.partitions('trail').map((p) => p.prefix)).to.deep.equal(['AWSLogs/111111111111/CloudTrail/us-east-1/']);
  });

  it('marker reset --after KEY moves only the partition KEY is in', async () => {
    // Recent objects: every marker stays at the start, so only the ledger keeps them from repeating.
    await h.poll(source());
    h.sink.lines.length = 0;
    h.store.requestReset('trail', { mode: 'after', key: 'AWSLogs/111111111111/CloudTrail/us-east-1/' });
    await h.poll(source());
    expect(h.sink.eventIds()).to.deep.equal(['a-0']);
  });
});
