import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { guarddutyFormat } from '../../src/formats/guardduty.js';
import { configFormat } from '../../src/formats/config.js';
import { route53resolverFormat } from '../../src/formats/route53resolver.js';
import { csvFormat } from '../../src/formats/csv.js';
import { jsonFormat } from '../../src/formats/json.js';
import { cloudtrailFormat } from '../../src/formats/cloudtrail.js';
import { classifyCloudTrail, CATEGORY_TABLE_VERSION } from '../../src/formats/cloudtrail-categories.js';
import { typedValue, isoTime } from '../../src/formats/typed.js';
import type { Format, ParsedItem } from '../../src/formats/types.js';
import { formatFor } from '../../src/formats/index.js';
import { sourceSchema } from '../../src/config/schema.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function parse(format: Format, bytes: Buffer | string, chunk = 64 * 1024): Promise<ParsedItem[]> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += chunk) chunks.push(buffer.subarray(offset, offset + chunk));
  const items: ParsedItem[] = [];
  for await (const item of format.parse(Readable.from(chunks), { key: 'k' })) items.push(item);
  return items;
}
type EventItem = Extract<ParsedItem, { event: unknown }>;
const events = (items: ParsedItem[]) => items.filter((item): item is EventItem => 'event' in item);
const bad = (items: ParsedItem[]) => items.filter((item): item is Extract<ParsedItem, { bad: unknown }> => 'bad' in item);

async function parseError(format: Format, text: string): Promise<string | undefined> {
  try {
    await parse(format, text);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe('document and generic formats', () => {
  it('guardduty: one event per exported finding at its updatedAt; an empty {"findings": []} line yields none', async () => {
    const items = await parse(guarddutyFormat, fixture('guardduty/test-guardduty.log'));
    expect(bad(items)).to.have.length(0);
    const all = events(items);
    expect(all).to.have.length(5);
    expect(all[0]!.event).to.include({ type: 'Trojan:EC2/BlackholeTraffic!DNS', accountId: '123412341234' });
    expect(all[0]!.time).to.equal(isoTime(all[0]!.event.updatedAt));
    expect(all.map((item) => item.time)).to.satisfy((times: (string | undefined)[]) => times.every((time) => /^\d{4}-\d\d-\d\dT/.test(time ?? '')));
    const wrapped = events(await parse(guarddutyFormat, '{"findings":[{"id":"a","updatedAt":"2026-11-23T10:00:00Z"},{"id":"b","updatedAt":"2026-11-23T10:00:01Z"}]}\nnot json\n'));
    expect(wrapped.map((item) => item.event.id)).to.deep.equal(['a', 'b']);
  });

  it('config: one event per configuration item of a snapshot or history file, at its capture time', async () => {
    const snapshot = events(await parse(configFormat, fixture('config/123456789012_Config_us-east-2_ConfigSnapshot_20160927T183939Z_16da64e4-cb65-4846-b061-e6c3ba43cb96.json')));
    expect(snapshot.map((item) => item.event.resourceType)).to.deep.equal(['AWS::EC2::SecurityGroup', 'AWS::S3::Bucket', 'AWS::IAM::Role']);
    expect(snapshot[1]!.time).to.equal('2016-09-27T18:39:36.220Z');
    const history = events(await parse(configFormat, fixture('config/123456789012_Config_us-east-2_ConfigHistory_AWS::EC2::SecurityGroup_20160927T190211Z_20160927T190211Z_1.json')));
    expect(history).to.have.length(1);
    expect(history[0]!.event.relatedEvents).to.deep.equal(['6f8d4d1e-1a2b-4c3d-9e8f-0a1b2c3d4e5f']);
    expect(await parseError(configFormat, '{"fileVersion":"1.0"}')).to.equal('k: not an AWS Config snapshot or history file (no "configurationItems" array at the top level)');
  });

  it('route53resolver: query logs with the port as a number and query_timestamp as time', async () => {
    const all = events(await parse(route53resolverFormat, fixture('route53resolver/vpc-7example.log')));
    expect(all).to.have.length(3);
    expect(all[0]!.event).to.include({ query_name: '15.3.4.32.in-addr.arpa.', srcport: 56067, firewall_rule_action: 'BLOCK' });
    expect(all[0]!.time).to.equal('2021-02-04T17:51:55.000Z');
    expect(all[2]!.event).to.deep.include({ rcode: 'NXDOMAIN', answers: [], srcids: { resolver_endpoint: 'rslvr-in-0123456789example' } });
  });

  it('csv with a header: typed values, quoted commas and newlines, a bad line skipped in its place, extra values kept', async () => {
    for (const chunk of [7, 64 * 1024]) {
      const items = await parse(csvFormat({ delimiter: ',' }), fixture('csv/with-header.csv'), chunk);
      expect(items.map((item) => ('bad' in item ? `bad ${item.bad.line}` : item.event.user)), `chunk ${chunk}`).to.deep.equal(['alice', 'bob', 'bad 4', 'dave']);
      const [alice, bob, , dave] = items as EventItem[];
      expect(alice!.event).to.deep.equal({ timestamp: '2026-11-23T10:00:00.000Z', user: 'alice', src_ip: '10.0.0.1', action: 'allow', bytes: 1234, note: 'quoted, with comma' });
      expect(bob!.event).to.include({ bytes: null, note: null });
      expect(dave!.event).to.include({ bytes: '0123', note: 'two\nlines', field_7: 'extra' });
      expect(alice!.time).to.equal('2026-11-23T10:00:00.000Z');
    }
  });

  it('csv without a header (Cisco Umbrella DNS logs) takes its columns and time_field from the config', async () => {
    const columns = ['timestamp', 'most_granular_identity', 'identities', 'internal_ip', 'external_ip', 'action', 'query_type', 'response_code', 'domain', 'categories'];
    const all = events(await parse(csvFormat({ columns, delimiter: ',', timeField: 'timestamp' }), fixture('csv/umbrella-dnslogs.csv')));
    expect(all).to.have.length(3);
    expect(all[0]!.event).to.include({ timestamp: '2015-01-16T17:48:41.000Z', identities: 'ActiveDirectoryUserName,ADSite,Network', action: 'Allowed', query_type: '1 (A)', domain: 'domain-visited.com.' });
    expect(all[0]!.time).to.equal('2015-01-16T17:48:41.000Z'); // Umbrella writes UTC without a zone
    expect(all[2]!.event.categories).to.equal(null);
  });

  it('json: records at records_path at any chunk size, time from time_field; a wrong path is named', async () => {
    const document = JSON.stringify({ data: { items: [{ at: 1700000000, n: 1 }, { at: 1700000001, n: 2 }, 'x'] } });
    for (const chunk of [5, document.length]) {
      const items = await parse(jsonFormat({ recordsPath: 'data.items', timeField: 'at' }), document, chunk);
      expect(events(items).map((item) => [item.event.n, item.time])).to.deep.equal([[1, '2023-11-14T22:13:20.000Z'], [2, '2023-11-14T22:13:21.000Z']]);
      expect(bad(items)).to.deep.equal([{ bad: { line: 3, reason: 'record 3 is not a JSON object' } }]);
    }
    expect(events(await parse(jsonFormat({ recordsPath: '' }), '[{"time":"2026-11-23T10:00:00Z"}]'))[0]!.time).to.equal('2026-11-23T10:00:00.000Z');
    expect(await parseError(jsonFormat({ recordsPath: 'rows' }), '{"Records":[]}')).to.equal('k: not the JSON document the source describes (no "rows" array at the top level)');
    expect(await parseError(jsonFormat({ recordsPath: '' }), '{"Records":[]}')).to.equal('k: not the JSON document the source describes (no array at the top level)');
  });

  it('typed values: - and empty are null, canonical numbers are numbers, anything else stays text', () => {
    expect([typedValue('-'), typedValue(''), typedValue('42'), typedValue('-1.5'), typedValue('0123'), typedValue('1e5'), typedValue('12345678901234567890')]).to.deep.equal([null, null, 42, -1.5, '0123', '1e5', '12345678901234567890']);
    expect(isoTime('2026-11-23 10:00:00')).to.equal('2026-11-23T10:00:00.000Z');
    expect(isoTime('2026-11-23T10:00:00+0100')).to.equal('2026-11-23T09:00:00.000Z');
  });
});

describe('cloudtrail: every shape CloudTrail reaches S3 in, told from the first bytes', () => {
  it('one record per line (Filebeat\'s test file): each line is an event, delivered as written', async () => {
    const text = fixture('cloudtrail/console-login-json.log').toString('utf8');
    const items = await parse(cloudtrailFormat, text, 7);
    expect(bad(items)).to.deep.equal([]);
    const read = events(items);
    expect(read).to.have.length(text.trim().split('\n').length);
    expect(read[0]!.event).to.include({ eventName: 'ConsoleLogin', eventTime: '2014-07-16T15:49:27Z' });
    expect(read[0]!.time).to.equal('2014-07-16T15:49:27Z');
    expect(read[0]!.fields).to.deep.equal({ category: 'authentication', outcome: 'success' });
    expect(read[0]!.json).to.equal(text.split('\n')[0]!.trim());
    expect(read.some((item) => item.fields!.outcome === 'failure'), 'the failed sign-in').to.equal(true);
  });

  it('EventBridge events as Firehose writes them: the CloudTrail record in detail; an event of another kind is a bad line that says so', async () => {
    const items = await parse(cloudtrailFormat, fixture('cloudtrail/eventbridge-cloudtrail.jsonl'));
    const read = events(items);
    expect(read.map((item) => item.event.eventName)).to.deep.equal(['ConsoleLogin', 'ConsoleLogin', 'PutBucketPolicy']);
    expect(read[2]!.fields).to.deep.equal({ category: 'iam_change', outcome: 'success' });
    expect(read[2]!.time).to.equal('2026-11-23T10:00:00Z');
    expect(read[2]!.event).to.not.have.property('detail-type');
    expect(bad(items)).to.deep.equal([{ bad: { line: 4, reason: 'an EventBridge event of "EC2 Instance State-change Notification", not a CloudTrail record' } }]);
    expect(cloudtrailFormat.dedupKey!(read[2]!.event)).to.equal('111122223333/0a7b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d');
  });

  it('a {"Records": [...]} document on each line, and the log file itself, split at any chunk size', async () => {
    const doc = (id: string) => JSON.stringify({ Records: [{ eventVersion: '1.09', eventTime: '2026-11-23T10:00:00Z', eventName: 'GetObject', eventID: `${id}-1` }, { eventVersion: '1.09', eventTime: '2026-11-23T10:00:01Z', eventName: 'PutObject', eventID: `${id}-2` }] });
    const lines = events(await parse(cloudtrailFormat, `${doc('a')}\n${doc('b')}\n`));
    expect(lines.map((item) => item.event.eventID)).to.deep.equal(['a-1', 'a-2', 'b-1', 'b-2']);
    const backToBack = events(await parse(cloudtrailFormat, `${doc('a')}${doc('b')}`, 5));
    expect(backToBack.map((item) => item.event.eventID)).to.deep.equal(['a-1', 'a-2', 'b-1', 'b-2']);
    for (const chunk of [1, 3, 4096, 64 * 1024]) {
      const file = events(await parse(cloudtrailFormat, `\uFEFF  ${JSON.stringify({ Records: [{ eventID: 'x' }, { eventID: 'y' }] }, null, 2)}`, chunk));
      expect(file.map((item) => item.event.eventID), `chunks of ${chunk}`).to.deep.equal(['x', 'y']);
    }
    // A line that is neither: named, and the rest still read.
    const mixed = await parse(cloudtrailFormat, '{"eventVersion":"1.09","eventID":"ok"}\n{"hello":"world"}\nnot json\n');
    expect(events(mixed).map((item) => item.event.eventID)).to.deep.equal(['ok']);
    expect(bad(mixed).map((item) => item.bad.reason)).to.deep.equal(['not a CloudTrail record (no eventVersion, eventTime or eventName)', 'not valid JSON (Unexpected token \'o\', "not json" is not valid JSON)']);
  });

  it('CloudTrail Insights records have a category of their own', async () => {
    const [insight] = events(await parse(cloudtrailFormat, fixture('cloudtrail/insight-json.log')));
    expect(insight!.event).to.include({ eventType: 'AwsCloudTrailInsight' });
    expect(insight!.fields).to.deep.equal({ category: 'insight', outcome: 'success' });
    expect(insight!.time).to.equal('2020-09-09T23:00:00Z');
  });
});

describe('CloudTrail category and outcome (table ' + CATEGORY_TABLE_VERSION + ')', () => {
  const event = (eventSource: string, eventName: string, extra: Record<string, unknown> = {}) => classifyCloudTrail({ eventSource: `${eventSource}.amazonaws.com`, eventName, ...extra });

  it('names the category of each kind of event', () => {
    expect(event('signin', 'ConsoleLogin').category).to.equal('authentication');
    expect(event('sts', 'AssumeRole').category).to.equal('authentication');
    expect(event('iam', 'AttachUserPolicy').category).to.equal('iam_change');
    expect(event('iam', 'CreateAccessKey').category).to.equal('iam_change');
    expect(event('iam', 'ListUsers', { readOnly: true }).category).to.equal('read');
    expect(event('ec2', 'AuthorizeSecurityGroupIngress').category).to.equal('network_security_config');
    expect(event('ec2', 'DeleteFlowLogs').category).to.equal('network_security_config');
    expect(event('guardduty', 'DeleteDetector').category).to.equal('network_security_config');
    expect(event('cloudtrail', 'StopLogging').category).to.equal('logging_change');
    expect(event('s3', 'GetObject', { eventCategory: 'Data', readOnly: true }).category).to.equal('data_access');
    expect(event('secretsmanager', 'GetSecretValue').category).to.equal('data_access');
    expect(event('ec2', 'DescribeInstances', { readOnly: true }).category).to.equal('read');
    expect(event('ec2', 'RunInstances').category).to.equal('resource_change');
    expect(classifyCloudTrail({}).category).to.equal('unknown');
  });

  it('outcome is failure on an errorCode or a failed console sign-in', () => {
    expect(event('ec2', 'RunInstances').outcome).to.equal('success');
    expect(event('ec2', 'RunInstances', { errorCode: 'Client.UnauthorizedOperation' }).outcome).to.equal('failure');
    expect(event('signin', 'ConsoleLogin', { responseElements: { ConsoleLogin: 'Failure' } }).outcome).to.equal('failure');
    expect(event('signin', 'ConsoleLogin', { responseElements: { ConsoleLogin: 'Success' } })).to.deep.equal({ category: 'authentication', outcome: 'success' });
  });

  it('the cloudtrail format sets them on real Stratus Red Team detonations', async () => {
    const records = JSON.parse(fixture('cloudtrail/stratus-red-team/aws.defense-evasion.cloudtrail-stop.json').toString('utf8')) as Record<string, unknown>[];
    const items = events(await parse(cloudtrailFormat, JSON.stringify({ Records: records })));
    const stop = items.find((item) => item.event.eventName === 'StopLogging');
    expect(stop?.fields).to.deep.equal({ category: 'logging_change', outcome: 'success' });
    expect(items.every((item) => item.fields?.category !== undefined)).to.equal(true);
  });
});

describe('envelope: cloudwatch_logs (what a CloudWatch Logs subscription sends to Firehose)', () => {
  const withEnvelope = (format: string, extra: Record<string, unknown> = {}) =>
    formatFor(sourceSchema.parse({ id: 'cw', bucket: 'cw-bucket', region: 'us-east-1', format, envelope: 'cloudwatch_logs', ...extra }));

  it('unwraps DATA_MESSAGEs back to back, skips CONTROL_MESSAGEs, reads each message with the format and keeps log_group and log_stream beside the event, at any chunk size', async () => {
    const flows = readFileSync(new URL('../fixtures/vpcflow/accept-reject-traffic.log', import.meta.url), 'utf8');
    const direct = events(await parse(formatFor({ format: 'vpcflow' }), flows));
    for (const chunk of [1, 13, 64 * 1024]) {
      const items = await parse(withEnvelope('vpcflow'), fixture('cloudwatch/vpcflow-subscription.json'), chunk);
      expect(bad(items), `chunks of ${chunk}`).to.deep.equal([]);
      const read = events(items);
      expect(read.map((item) => item.event), `chunks of ${chunk}`).to.deep.equal(direct.map((item) => item.event));
      expect(read[0]!.fields).to.deep.equal({ log_group: '/aws/vpc/flowlogs', log_stream: 'eni-1235b8ca123456789-all' });
      expect(read[0]!.time).to.equal(direct[0]!.time);
    }
  });

  it('lines wrapped as {"message": "…"} are unwrapped the same way; CloudTrail records in messages keep their category', async () => {
    const lines = events(await parse(withEnvelope('lines'), '{"message":"first line"}\n{"message":"second line","logGroup":"/app"}\n'));
    expect(lines.map((item) => [item.event.message, item.fields])).to.deep.equal([['first line', {}], ['second line', { log_group: '/app' }]]);
    const record = JSON.stringify({ eventVersion: '1.09', eventTime: '2026-11-23T10:00:00Z', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventID: 'x' });
    const trail = events(await parse(withEnvelope('cloudtrail'), JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: 'aws-cloudtrail-logs', logStream: '111122223333_CloudTrail_us-east-1', logEvents: [{ id: '1', timestamp: 0, message: record }] })));
    expect(trail[0]!.fields).to.deep.equal({ category: 'logging_change', outcome: 'success', log_group: 'aws-cloudtrail-logs', log_stream: '111122223333_CloudTrail_us-east-1' });
  });

  it('a broken document is a bad line naming it; a bad message names its document and place; the rest is read', async () => {
    const good = JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: 'g', logStream: 's', logEvents: [{ id: '1', timestamp: 0, message: '{"a":1}' }, { id: '2', timestamp: 0, message: 'not json' }] });
    const items = await parse(withEnvelope('jsonlines'), `${good}{"messageType":"DATA_MESSAGE"}{"logEvents":[{"id":"3"}]}${good}`);
    expect(events(items)).to.have.length(2);
    const reasons = bad(items).map((item) => item.bad.reason);
    expect(reasons[0]).to.match(/^CloudWatch Logs document 1, message 2: invalid JSON/);
    expect(reasons.slice(1, 3)).to.deep.equal(['CloudWatch Logs document 2: a DATA_MESSAGE without logEvents', 'CloudWatch Logs document 3: log event 1 has no message']);
    expect(reasons[3]).to.match(/^CloudWatch Logs document 4, message 2: invalid JSON/);
    expect(reasons).to.have.length(4);
  });
});
