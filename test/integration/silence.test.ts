import { expect } from 'chai';
import { collectorConfig, harness, HOUR, type Harness } from '../helpers/harness.js';
import { resetMoto } from '../helpers/moto.js';
import { createBucket, putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { Collector } from '../../src/service/collector.js';
import { sourceStatus } from '../../src/cli/status.js';
import { silentPartitions, SilenceWatch } from '../../src/poll/silence.js';
import { systemClock } from '../../src/util/clock.js';
import type { Logger } from '../../src/log/logger.js';

/** A logger that keeps what it was told, to look for the silence lines. */
function recordingLogger(lines: { level: string; message: string; fields: Record<string, unknown> }[]): Logger {
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => lines.push({ level, message, fields });
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger, context: {} };
  return logger;
}


describe('expect_objects_within: a partition that goes silent', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    await resetMoto();
    await createBucket('trail-bucket');
    h = harness();
  });
  afterEach(() => h.close());

  it('is judged by the newest delivered object, and a partition that never delivered is not judged', () => {
    const partitions = [
      { prefix: 'a/', settledKey: '', newestDoneModifiedMs: 1_000, unpaddedDates: false },
      { prefix: 'b/', settledKey: '', newestDoneModifiedMs: 5_000, unpaddedDates: false },
      { prefix: 'c/', settledKey: '', newestDoneModifiedMs: null, unpaddedDates: false },
    ];
    expect(silentPartitions(partitions, 3_000, 6_000)).to.deep.equal([{ prefix: 'a/', newestObjectMs: 1_000, silentForMs: 5_000 }]);
    const watch = new SilenceWatch();
    expect(watch.update(partitions, 3_000, 6_000).began.map((s) => s.prefix)).to.deep.equal(['a/']);
    // Still silent: not said again.
    expect(watch.update(partitions, 3_000, 7_000)).to.deep.equal({ began: [], ended: [] });
    expect(watch.update(partitions, 3_000, 9_000).began.map((s) => s.prefix)).to.deep.equal(['b/']);
    expect(watch.update([{ ...partitions[0]!, newestDoneModifiedMs: 8_500 }, partitions[1]!], 3_000, 9_000)).to.deep.equal({ began: [], ended: ['a/'] });
  });

  it('the service warns once when a partition falls silent and notes when it delivers again; sources shows it', async () => {
    const prefix = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'first'), body: cloudTrailFile('first', 2) }]);
    const source = testSource({ expect_objects_within: '2h', late_window: '0s' });
    let offsetMs = 0;
    const clock = { now: () => Date.now() + offsetMs, sleep: systemClock.sleep };
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const collector = new Collector(collectorConfig(source, h.stateFile), { store: h.store, sink: h.sink, log: recordingLogger(lines), clock });
    const silences = () => lines.filter((line) => line.message.startsWith('partition silent'));
    try {
      await collector.pollNow();
      expect(silences(), 'just delivered: not silent').to.deep.equal([]);

      offsetMs = 3 * HOUR;
      await collector.pollNow();
      await collector.pollNow();
      expect(silences(), 'one warning, not one per poll').to.have.length(1);
      expect(silences()[0]).to.deep.include({ level: 'warn' });
      expect(silences()[0]!.fields).to.include({ source: 'trail', partition: prefix, expected_within: '2h' });
      expect(sourceStatus(source, h.store, Date.now() + offsetMs).silent.map((s) => s.prefix)).to.deep.equal([prefix]);
      expect(sourceStatus(source, h.store, Date.now()).silent, 'at the real time it is not').to.deep.equal([]);

      // A new object arrives and is delivered: the partition speaks again.
      offsetMs = 0;
      await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1100Z', 'second'), body: cloudTrailFile('second', 2) }]);
      offsetMs = 3 * HOUR;
      await collector.pollNow();
      // Delivered now, but its LastModified is the real time, 3 h before the shifted clock: still silent, no new line.
      expect(silences()).to.have.length(1);
      offsetMs = 0;
      await collector.pollNow();
      expect(lines.filter((line) => line.message === 'partition delivering again').map((line) => line.fields)).to.deep.equal([{ source: 'trail', partition: prefix, event: 'partition_delivering' }]);
    } finally {
      await collector.stop();
    }
    expect(h.sink.eventIds()).to.have.length(4);
  });
});
