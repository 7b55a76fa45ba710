import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { freshTrailBucket, type Harness } from '../helpers/harness.js';
import { putObjects, cloudTrailFile, trailKey } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';
import { startFlakyRelpReceiver, startRsyslog, type Rsyslog } from '../helpers/rsyslog.js';
import { makeTestCa, type TestCa } from '../helpers/tls.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { motoEndpoint } from '../helpers/moto.js';
import type { PollResult } from '../../src/poll/poll-source.js';
import { SyslogSink } from '../../src/sinks/syslog.js';
import { syslogOutputSchema } from '../../src/config/schema.js';
import { createLogger, silentLogger, type Logger } from '../../src/log/logger.js';
import { systemClock, type Clock } from '../../src/util/clock.js';
import type { LoadedSource } from '../../src/config/load.js';
import { PassThrough } from 'node:stream';

/** A clock whose sleeps (the sink's backoff) run a hook first: a test can act while the sink waits. */
class HookedClock implements Clock {
  sleeps = 0;
  constructor(private readonly onSleep: (count: number) => Promise<void>, private advanceMs = 0) {}
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps += 1;
    this.offset += this.advanceMs || ms;
    await this.onSleep(this.sleeps);
  }
}

describe('syslog output into a real rsyslog', function () {
  let ca: TestCa;
  let rsyslog: Rsyslog;
  let h: Harness;
  before(async () => {
    ca = makeTestCa();
    rsyslog = await startRsyslog(ca);
  });
  // When rsyslog could not start, before() failed and said why; there is nothing to stop.
  after(async () => rsyslog?.stop());
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  const received = () => rsyslog.messages().length;
  const pollInto = (source: LoadedSource, output: Record<string, unknown>, options: { clock?: Clock; log?: Logger } = {}): Promise<PollResult> =>
    h.pollInto(source, new SyslogSink(syslogOutputSchema.parse({ type: 'syslog', host: '127.0.0.1', ...output }), { clock: options.clock ?? systemClock, log: options.log ?? silentLogger, ca: [ca.caPem] }), options);

  it('RFC 5424 over TCP, octet-counted: every event arrives whole, HOSTNAME from identifier_pattern, MSGID the format', async () => {
    await putObjects('trail-bucket', [
      { key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 700) },
      { key: trailKey('2026/11/23', '20261123T1005Z', 'bbbb'), body: cloudTrailFile('b', 3) },
    ]);
    const before = received();
    const source = testSource({ identifier_pattern: 'AWSLogs/(?<account>\\d{12})/CloudTrail/(?<region>[^/]+)/' });
    const result = await pollInto(source, { port: rsyslog.tcpPort });
    expect(result.events).to.equal(703);
    const messages = (await rsyslog.waitForMessages(before + 703)).slice(before);
    expect(messages).to.have.length(703);
    const envelopes = messages.map((message) => JSON.parse(message.msg));
    expect(new Set(envelopes.map((envelope) => envelope.event.eventID)).size).to.equal(703);
    expect(messages[0]).to.include({ hostname: '111122223333-us-east-1', appName: 's3pull', msgId: 'cloudtrail', input: 'tcp', pri: 134 });
    expect(messages[0]!.timestamp).to.match(/^2026-11-23T10:00:00/);
    expect(envelopes[0]).to.include({ source: '111122223333-us-east-1', source_id: 'trail', category: 'data_access', outcome: 'success' });
  });

  it('RFC 3164 over TCP with line-feed framing, the record alone as message, a templated APP-NAME', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 2) }]);
    const before = received();
    await pollInto(testSource(), { port: rsyslog.tcpPort, protocol: 'rfc3164', framing: 'lf', message: 'event', app_name: 'aws-{format}', hostname: 'collector-1', facility: 'local4', severity: 'notice' });
    const messages = (await rsyslog.waitForMessages(before + 2)).slice(before);
    expect(messages[0]).to.include({ hostname: 'collector-1', appName: 'aws-cloudtrail', pri: 20 * 8 + 5 });
    expect(JSON.parse(messages[0]!.msg)).to.include({ eventID: 'a-0', eventName: 'GetObject' });
  });

  it('TLS under the CA from certs_dir (s3pull once); without the CA it names the certificate and keeps the marker', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 5) }]);
    const collector = `state: state.db\ncerts_dir: certs\noutput: { type: syslog, transport: tls, host: localhost, port: ${rsyslog.tlsPort}, retry_timeout: 5s }\n`;
    const source = `id: trail\nbucket: trail-bucket\nprefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nregion: us-east-1\nendpoint: ${motoEndpoint()}\npath_style: true\nauth: { type: access_key, access_key_id: AKIATESTKEY, secret_access_key: testing }\nformat: cloudtrail\n`;
    const dir = writeConfig(collector, { 'trail.yaml': source });
    const before = received();

    const refused = await runCli(['once', '--config', dir, '--no-progress']);
    expect(refused.code).to.equal(1);
    expect(refused.stdout + refused.stderr).to.contain("the receiver's TLS certificate is not trusted").and.contain('certs_dir');
    // The marker stayed: nothing was committed, so the next run delivers every event.
    const status = JSON.parse((await runCli(['sources', '--json', '--config', dir])).stdout) as { objectsDone: number; events: number; partitions: { settledKey: string }[] }[];
    expect(status[0]).to.include({ objectsDone: 0, events: 0 });
    expect(status[0]!.partitions.every((partition) => partition.settledKey === '')).to.equal(true);

    mkdirSync(path.join(dir, 'certs'), { recursive: true });
    copyFileSync(path.join(ca.dir, 'ca.pem'), path.join(dir, 'certs', 'test-ca.pem'));
    const accepted = await runCli(['once', '--config', dir, '--no-progress']);
    expect(accepted.code, accepted.stderr).to.equal(0);
    const messages = (await rsyslog.waitForMessages(before + 5)).slice(before);
    // Exactly these five: the refused run sent nothing (a message of it would stand first here).
    expect(messages.map((message) => JSON.parse(message.msg).event.eventID)).to.deep.equal(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(messages.every((message) => message.input === 'tls')).to.equal(true);
  });

  it('a receiver that is down pauses the poll; when it is back everything arrives, nothing lost', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 1200) }]);
    const before = received();
    await rsyslog.stop();
    // The sink's first backoff is where the receiver comes back, as a restarted SIEM would.
    const clock = new HookedClock(async (count) => {
      if (count === 2) await rsyslog.start();
    });
    const logLines = new PassThrough();
    let logText = '';
    logLines.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    const result = await pollInto(testSource(), { port: rsyslog.tcpPort }, { clock, log: createLogger({ level: 'info', format: 'json', stream: logLines }) });
    expect(result.status).to.equal('ok');
    expect(clock.sleeps).to.be.greaterThanOrEqual(2);
    expect(logText).to.contain('output receiver unavailable').and.contain('output receiver is back');
    const ids = (await rsyslog.waitForMessages(before + 1200)).slice(before).map((message) => JSON.parse(message.msg).event.eventID);
    expect(new Set(ids).size).to.equal(1200);
  });

  it('gives up after retry_timeout with the marker kept; the next poll delivers everything', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 10) }]);
    const before = received();
    await rsyslog.stop();
    try {
      const failed = await pollInto(testSource(), { port: rsyslog.tcpPort, retry_timeout: '60s' }, { clock: new HookedClock(async () => {}, 20_000) });
      expect(failed.status).to.equal('failed');
      expect(failed.errors[0]).to.match(/syslog tcp:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED.*the marker stays/);
      expect(h.store.partitions('trail').every((partition) => partition.settledKey === '')).to.equal(true);
    } finally {
      await rsyslog.start();
    }
    const next = await pollInto(testSource(), { port: rsyslog.tcpPort });
    expect(next.events).to.equal(10);
    expect((await rsyslog.waitForMessages(before + 10)).slice(before)).to.have.length(10);
  });

  it('RELP, plain and over TLS with a client certificate: every message acknowledged by rsyslog', async () => {
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', 600) }]);
    const before = received();
    const plain = await pollInto(testSource(), { transport: 'relp', port: rsyslog.relpPort });
    expect(plain.events).to.equal(600);
    h.store.requestReset('trail', { mode: 'beginning' });
    const secure = await pollInto(testSource(), { transport: 'relp_tls', host: 'localhost', port: rsyslog.relpTlsPort, tls: { cert: path.join(ca.dir, 'client.pem'), key: path.join(ca.dir, 'client.key') } });
    expect(secure.events).to.equal(600);
    const messages = (await rsyslog.waitForMessages(before + 1200)).slice(before);
    expect(messages.filter((message) => message.input === 'relp')).to.have.length(600);
    expect(messages.filter((message) => message.input === 'relp_tls')).to.have.length(600);
    expect(JSON.parse(messages[0]!.msg).event.eventID).to.equal('a-0');

    // Without the client certificate rsyslog drops the session, and the error says what to set.
    h.store.requestReset('trail', { mode: 'beginning' });
    const refused = await pollInto(testSource(), { transport: 'relp_tls', host: 'localhost', port: rsyslog.relpTlsPort, retry_timeout: '2s' }, { clock: new HookedClock(async () => {}, 1000) });
    expect(refused.status).to.equal('failed');
    expect(refused.errors[0]).to.contain('set tls.cert and tls.key');
  });

  const relpFailures = [
    { failure: 'close', events: 300, ackFirst: 120, title: 'dies mid-batch' },
    { failure: 'silence', events: 50, ackFirst: 20, title: 'stops answering (given up after send_timeout)' },
  ] as const;
  for (const { failure, events, ackFirst, title } of relpFailures) {
    it(`RELP: a receiver that ${title} gets only the unacknowledged messages again, on a new session`, async () => {
      await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: cloudTrailFile('a', events) }]);
      const receiver = await startFlakyRelpReceiver(ackFirst, failure);
      try {
        const result = await pollInto(testSource(), { transport: 'relp', port: receiver.port, send_timeout: '1s' }, { clock: new HookedClock(async () => {}) });
        expect(result.status).to.equal('ok');
        expect(receiver.sessions).to.equal(2);
        const ids = receiver.acknowledged.map((message) => JSON.parse(message.slice(message.indexOf('{'))).event.eventID as string);
        // Each message exactly once: those acknowledged before the failure were not sent again.
        expect(ids).to.deep.equal(Array.from({ length: events }, (_, index) => `a-${index}`));
      } finally {
        await receiver.close();
      }
    });
  }

  it('UDP: a message over udp_max_bytes is cut on a character boundary and counted', async () => {
    // Records of three-byte characters, so that a cut at a byte count lands inside one unless it is moved.
    const records = Array.from({ length: 3 }, (_, index) => ({ eventID: `a-${index}`, eventTime: '2026-11-23T10:00:00Z', note: '€'.repeat(300 + index) }));
    await putObjects('trail-bucket', [{ key: trailKey('2026/11/23', '20261123T1000Z', 'aaaa'), body: gzipSync(JSON.stringify({ Records: records })) }]);
    const before = received();
    const logLines = new PassThrough();
    let logText = '';
    logLines.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    await pollInto(testSource(), { transport: 'udp', port: rsyslog.udpPort, udp_max_bytes: 480, message: 'event' }, { log: createLogger({ level: 'info', format: 'json', stream: logLines }) });
    const messages = (await rsyslog.waitForMessages(before + 3)).slice(before);
    expect(messages[0]!.input).to.equal('udp');
    for (const [index, message] of messages.entries()) {
      expect(Buffer.byteLength(message.msg)).to.be.lessThan(480);
      // Whole characters only: the cut message is the start of the record as written.
      expect(message.msg).to.not.contain('\uFFFD');
      expect(JSON.stringify(records[index]).startsWith(message.msg), message.msg).to.equal(true);
    }
    expect(logText).to.contain('messages longer than udp_max_bytes were cut').and.contain('"cut":3');
  });
});
