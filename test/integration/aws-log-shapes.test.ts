/**
 * The log shapes AWS writes beyond the first formats (issue 13), end to end: objects in moto,
 * listed, pulled, parsed and delivered by a poll, as a source would read them.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { freshTrailBucket, type Harness } from '../helpers/harness.js';
import { putObjects } from '../helpers/s3.js';
import { testSource } from '../helpers/source.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const ELB_PREFIX = 'AWSLogs/111122223333/elasticloadbalancing/us-east-2/';

describe('AWS log shapes, end to end through moto', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await freshTrailBucket();
  });
  afterEach(() => h.close());

  it('nlb: a Network Load Balancer log file (versions 1.0 and 2.0) is delivered field by field; an ALB line in it is a counted bad line', async () => {
    const key = `${ELB_PREFIX}2026/11/23/111122223333_elasticloadbalancing_us-east-2_net.my-network-loadbalancer.c6e77e28c25b2234_20261123T1000Z_172.100.100.185_2et4fz6u.log.gz`;
    const albLine = fixture('elb/example-alb-http.log').split('\n')[0]!;
    const body = `${fixture('elb/example-nlb-tcp.log').trim()}\n${fixture('elb/nlb-tls-2.0.log').trim()}\n${albLine}\n`;
    await putObjects('trail-bucket', [{ key, body: gzipSync(body) }]);
    const result = await h.poll(testSource({ prefix: ELB_PREFIX, format: 'nlb' }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 4, badLines: 1 });
    const delivered = h.sink.events() as unknown as { time: string; format: string; event: Record<string, unknown> }[];
    expect(delivered.map((line) => line.time)).to.deep.equal(['2018-12-20T02:59:40Z', '2026-11-23T10:00:40Z', '2026-11-23T10:01:10Z', '2026-11-23T10:02:00Z']);
    expect(delivered[0]).to.include({ format: 'nlb' });
    expect(delivered[1]!.event).to.include({ version: '2.0', client_ip: '192.0.2.10', client_port: 51341, tls_handshake_time: 2, alpn_client_preference_list: 'h2,http/1.1' });
    expect(delivered[2]!.event).to.include({ incoming_tls_alert: 'decrypt_error', tls_handshake_time: null });
  });

  it('alb_connection: an Application Load Balancer connection log file is delivered with its certificate fields', async () => {
    const key = `${ELB_PREFIX}2026/11/23/conn_log.111122223333_elasticloadbalancing_us-east-2_app.my-alb.50dc6c495c0c9188_20261123T1000Z_10.0.0.1_5r3fw1e2.log.gz`;
    await putObjects('trail-bucket', [{ key, body: gzipSync(fixture('elb/alb-connection.log')) }]);
    const result = await h.poll(testSource({ prefix: ELB_PREFIX, format: 'alb_connection' }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 3, badLines: 0 });
    const delivered = h.sink.events() as unknown as { event: Record<string, unknown> }[];
    expect(delivered.map((line) => line.event['tls_verify_status'])).to.deep.equal(['Success', 'Failed:UnmatchedTrustAnchor', 'Success']);
    expect(delivered[0]!.event).to.include({ leaf_client_cert_not_after: '2026-06-17T22:43:21Z' });
  });

  it('vpcflow with vpcflow.fields: headerless flow records (as CloudWatch Logs and Firehose deliver them) are named by the configured format', async () => {
    const [header, ...lines] = fixture('vpcflow/tcp-flag-sequence.log').trim().split('\n');
    const key = 'flowlogs/firehose/2026/11/23/10/vpc-flows-1-2026-11-23-10-00-00-6a0b.gz';
    await putObjects('trail-bucket', [{ key, body: gzipSync(`${lines.join('\n')}\n`) }]);
    const fields = header!.split(' ').map((name) => `\${${name}}`).join(' ');
    const result = await h.poll(testSource({ prefix: 'flowlogs/', format: 'vpcflow', vpcflow: { fields } }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: lines.length, badLines: 0 });
    const delivered = h.sink.events() as unknown as { time: string; event: Record<string, unknown> }[];
    expect(delivered[0]!.event).to.include({ version: 3, vpc_id: 'vpc-abcdefab012345678', srcport: 43416, tcp_flags: 2, action: 'ACCEPT' });
    expect(delivered[0]!.time).to.equal('2019-08-26T19:47:55.000Z');
  });

  it('cloudtrail: EventBridge CloudTrail events as Firehose writes them are delivered as CloudTrail records with their category', async () => {
    const key = 'firehose/cloudtrail/2026/11/23/10/trail-events-1-2026-11-23-10-00-00-6a0b1c2d.gz';
    await putObjects('trail-bucket', [{ key, body: gzipSync(fixture('cloudtrail/eventbridge-cloudtrail.jsonl')) }]);
    const result = await h.poll(testSource({ prefix: 'firehose/', format: 'cloudtrail' }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 3, badLines: 1 });
    const delivered = h.sink.events() as unknown as { category: string; outcome: string; event: Record<string, unknown> }[];
    expect(delivered.map((line) => [line.event['eventName'], line.category, line.outcome])).to.deep.equal([
      ['ConsoleLogin', 'authentication', 'success'],
      ['ConsoleLogin', 'authentication', 'failure'],
      ['PutBucketPolicy', 'iam_change', 'success'],
    ]);
  });

  it('compressions by their first bytes, whatever the key says: zstd, bzip2 and a multi-member gzip file in one poll', async () => {
    const binary = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
    const flows = fixture('vpcflow/accept-reject-traffic.log');
    const [header, ...rest] = flows.trim().split('\n');
    await putObjects('trail-bucket', [
      { key: 'flows/2026/11/23/a.log.zst', body: binary('compression/accept-reject-traffic.log.zst') },
      { key: 'flows/2026/11/23/b.log.gz', body: binary('compression/accept-reject-traffic.log.bz2') },
      { key: 'flows/2026/11/23/c.log.gz', body: Buffer.concat([gzipSync(`${header}\n${rest[0]}\n`), gzipSync(`${rest.slice(1).join('\n')}\n`)]) },
    ]);
    const result = await h.poll(testSource({ prefix: 'flows/', format: 'vpcflow' }));
    expect(result).to.include({ status: 'ok', objectsDone: 3, objectsFailed: 0, badLines: 0, events: 3 * rest.length });
    const byKey = new Map<string, number>();
    for (const line of h.sink.events() as unknown as { key: string }[]) byKey.set(line.key, (byKey.get(line.key) ?? 0) + 1);
    expect([...byKey.values()]).to.deep.equal([rest.length, rest.length, rest.length]);
  });

  it('zip: an archive of flow log files is delivered entry by entry, in the archive\'s order, each event with its entry name', async () => {
    const binary = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
    const records = (name: string) => fixture(name).trim().split('\n').length - 1;
    // Named .gz, as exports are misnamed: the first bytes decide.
    await putObjects('trail-bucket', [{ key: 'exports/2026/11/23/flows.log.gz', body: binary('compression/flows.zip') }]);
    const result = await h.poll(testSource({ prefix: 'exports/', format: 'vpcflow' }));
    const first = records('vpcflow/accept-reject-traffic.log');
    const second = records('vpcflow/tcp-flag-sequence.log');
    expect(result).to.include({ status: 'ok', objectsDone: 1, objectsFailed: 0, badLines: 0, events: first + second });
    const delivered = h.sink.events() as unknown as { zip_entry: string; key: string }[];
    expect(delivered.map((line) => line.zip_entry)).to.deep.equal([...Array(first).fill('accept-reject-traffic.log'), ...Array(second).fill('more/tcp-flag-sequence.log.gz')]);
    expect(new Set(delivered.map((line) => line.key))).to.deep.equal(new Set(['exports/2026/11/23/flows.log.gz']));
  });

  it('cloudfront_realtime: real-time log records that Firehose delivered are named by the configured fields', async () => {
    const fields = fixture('cloudfront/realtime-all-fields.fields').trim();
    const key = 'realtime/edge-logs/2026/11/23/10/edge-logs-stream-1-2026-11-23-10-00-00-5f1e2d3c.gz';
    await putObjects('trail-bucket', [{ key, body: gzipSync(fixture('cloudfront/realtime-all-fields.log')) }]);
    const result = await h.poll(testSource({ prefix: 'realtime/', format: 'cloudfront_realtime', cloudfront_realtime: { fields: fields.split(' ') } }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 3, badLines: 0 });
    const delivered = h.sink.events() as unknown as { time: string; event: Record<string, unknown> }[];
    expect(delivered.map((line) => line.time)).to.deep.equal(['2026-11-23T10:00:00.123Z', '2026-11-23T10:00:01.456Z', '2026-11-23T10:00:02.789Z']);
    expect(delivered[1]!.event).to.include({ c_ip: '2001:db8::1', sc_status: 404, cs_uri_stem: '/missing.png', x_edge_location: 'FRA56-P3', asn: 3320 });
  });

  it('envelope: cloudwatch_logs: flow logs that a CloudWatch Logs subscription sent through Firehose are delivered with their log group and stream', async () => {
    const key = 'cwl/2026/11/23/10/flowlogs-to-s3-1-2026-11-23-10-00-00-0b1c.gz';
    await putObjects('trail-bucket', [{ key, body: gzipSync(fixture('cloudwatch/vpcflow-subscription.json')) }]);
    const result = await h.poll(testSource({ prefix: 'cwl/', format: 'vpcflow', envelope: 'cloudwatch_logs' }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: 4, badLines: 0 });
    const delivered = h.sink.events() as unknown as { log_group: string; log_stream: string; time: string; event: Record<string, unknown> }[];
    expect(delivered.map((line) => [line.log_group, line.log_stream])).to.deep.equal(Array.from({ length: 4 }, () => ['/aws/vpc/flowlogs', 'eni-1235b8ca123456789-all']));
    expect(delivered[0]!.event).to.include({ srcaddr: '78.24.182.42', dstport: 22, action: 'ACCEPT' });
    expect(delivered[0]!.time).to.equal('2014-12-14T04:06:50.000Z');
  });

  it('vpcflow: a Parquet flow log (AWS\'s columns and types, several row groups) is delivered row by row like the text format', async () => {
    const rows = 25;
    const columnData = [
      { name: 'version', type: 'INT32' as const, data: Array.from({ length: rows }, () => 2) },
      { name: 'account_id', type: 'STRING' as const, data: Array.from({ length: rows }, () => '123456789010') },
      { name: 'interface_id', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'eni-1235b8ca123456789') },
      { name: 'srcaddr', type: 'STRING' as const, data: Array.from({ length: rows }, (_, index) => `10.0.1.${index}`) },
      { name: 'dstaddr', type: 'STRING' as const, data: Array.from({ length: rows }, () => '203.0.113.12') },
      { name: 'srcport', type: 'INT32' as const, data: Array.from({ length: rows }, (_, index) => 40000 + index) },
      { name: 'dstport', type: 'INT32' as const, data: Array.from({ length: rows }, () => 443) },
      { name: 'protocol', type: 'INT32' as const, data: Array.from({ length: rows }, () => 6) },
      { name: 'packets', type: 'INT64' as const, data: Array.from({ length: rows }, () => 10n) },
      { name: 'bytes', type: 'INT64' as const, data: Array.from({ length: rows }, () => 840n) },
      { name: 'start', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(1795428000 + index)) },
      { name: 'end', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(1795428060 + index)) },
      { name: 'action', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'ACCEPT') },
      { name: 'log_status', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'OK') },
    ];
    const body = Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 10 }));
    const key = 'AWSLogs/123456789010/vpcflowlogs/us-east-1/2026/11/23/123456789010_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261123T1000Z_a1b2c3d4.log.parquet';
    await putObjects('trail-bucket', [{ key, body }]);
    const result = await h.poll(testSource({ prefix: 'AWSLogs/123456789010/vpcflowlogs/', format: 'vpcflow' }));
    expect(result).to.include({ status: 'ok', objectsDone: 1, events: rows, badLines: 0 });
    const delivered = h.sink.events() as unknown as { time: string; event: Record<string, unknown> }[];
    expect(delivered.map((line) => line.event['srcport'])).to.deep.equal(Array.from({ length: rows }, (_, index) => 40000 + index));
    expect(delivered[0]!.event).to.include({ packets: 10, bytes: 840, start: 1795428000, action: 'ACCEPT' });
    expect(delivered[0]!.time).to.equal('2026-11-23T10:00:00.000Z');
  });
});
