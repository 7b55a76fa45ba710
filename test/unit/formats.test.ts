import { expect } from 'chai';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ObjectDataError } from '../../src/util/errors.js';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync, gunzipSync } from 'node:zlib';
import { cloudtrailFormat } from '../../src/formats/cloudtrail.js';
import { vpcflowFormat, vpcflowWithFields } from '../../src/formats/vpcflow.js';
import { sourceSchema } from '../../src/config/schema.js';
import { formatConfigOf, formatFor } from '../../src/formats/index.js';
import { linesFormat } from '../../src/formats/lines.js';
import { jsonlinesFormat } from '../../src/formats/jsonlines.js';
import { parseObject } from '../../src/formats/parse-object.js';
import type { Format, ParsedItem } from '../../src/formats/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function parse(format: Format, bytes: Buffer | string, chunk = 64 * 1024): Promise<ParsedItem[]> {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += chunk) chunks.push(buffer.subarray(offset, offset + chunk));
  const items: ParsedItem[] = [];
  for await (const item of parseObject(format, Readable.from(chunks), { key: 'test-key' })) items.push(item);
  return items;
}

const events = (items: ParsedItem[]) => items.filter((item): item is Extract<ParsedItem, { event: unknown }> => 'event' in item);
const bad = (items: ParsedItem[]) => items.filter((item): item is Extract<ParsedItem, { bad: unknown }> => 'bad' in item);

describe('formats', () => {
  describe('cloudtrail', () => {
    it('reads a real gzipped CloudTrail file, each record as CloudTrail wrote it, with eventTime as time', async () => {
      const items = await parse(cloudtrailFormat, fixture('cloudtrail/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz'));
      const all = events(items);
      const original = JSON.parse(gunzipFixture('cloudtrail/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz')).Records;
      expect(all).to.have.length(original.length);
      expect(all[0]!.event).to.deep.equal(original[0]);
      expect(all[0]!.time).to.equal(original[0].eventTime);
    });

    it('reads a file at any chunk size as JSON.parse reads it whole, compact or pretty-printed', async () => {
      const compact = fixture('cloudtrail/beats-aws-cloudtrail.json');
      const records = JSON.parse(compact.toString('utf8')).Records as Record<string, unknown>[];
      const pretty = Buffer.from(JSON.stringify({ Records: records }, null, 2));
      for (const chunk of [1, 333, pretty.length]) {
        const fromCompact = events(await parse(cloudtrailFormat, compact, chunk));
        const fromPretty = events(await parse(cloudtrailFormat, pretty, chunk));
        expect(fromCompact.map((item) => item.event)).to.deep.equal(records);
        expect(fromPretty.map((item) => item.event)).to.deep.equal(records);
        expect(fromCompact.map((item) => JSON.parse(item.json!))).to.deep.equal(records);
        // A pretty-printed record holds line breaks: its text cannot be a line, so it is serialised again.
        expect(fromPretty.filter((item) => item.json !== undefined)).to.have.length(0);
      }
    });

    it('hands over the text of each compact record, exactly as the file holds it', async () => {
      const text = '{"Records":[{"eventID":"1","n":1.50,"s":"\\u00e9 \\"q\\""},{"eventID":"2","a":[ 1 , {"b":null} ]}]}';
      const items = events(await parse(cloudtrailFormat, text, 7));
      expect(items.map((item) => item.json)).to.deep.equal(['{"eventID":"1","n":1.50,"s":"\\u00e9 \\"q\\""}', '{"eventID":"2","a":[ 1 , {"b":null} ]}']);
      expect(items.map((item) => JSON.parse(item.json!))).to.deep.equal(items.map((item) => item.event));
    });

    it('refuses a file without a Records array, naming the key', async () => {
      for (const chunk of [1, 4, 100]) {
        let error: Error | undefined;
        try {
          await parse(cloudtrailFormat, '{"Other": [1, 2]}', chunk);
        } catch (caught) {
          error = caught as Error;
        }
        expect(error?.message, `chunk ${chunk}`).to.equal('test-key: not a CloudTrail file (no "Records" array at the top level)');
      }
    });

    it('refuses invalid JSON, naming where it broke off', async () => {
      for (const chunk of [4, 100]) {
        let error: Error | undefined;
        try {
          await parse(cloudtrailFormat, '{"Records": [{"a": 1}, {"b": ', chunk);
        } catch (caught) {
          error = caught as Error;
        }
        expect(error?.message).to.equal('test-key: not valid JSON (the document ends early, inside record 2 (truncated?))');
      }
    });

    it('skips and counts a record that is not an object', async () => {
      const items = await parse(cloudtrailFormat, '{"Records": [{"eventID": "1"}, 42, {"eventID": "3"}]}');
      expect(events(items)).to.have.length(2);
      expect(bad(items)[0]!.bad).to.deep.equal({ line: 2, reason: 'record 2 is not a JSON object' });
    });
  });

  const VPCFLOW_V2 = ['version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status'];

  describe('vpcflow', () => {
    it('reads the default format: "-" is null, integers are numbers, time is start', async () => {
      const items = events(await parse(vpcflowFormat, fixture('vpcflow/accept-reject-traffic.log')));
      expect(items[0]!.event).to.deep.equal({
        version: 2, account_id: '123456789010', interface_id: 'eni-1235b8ca123456789', srcaddr: '78.24.182.42', dstaddr: '158.109.0.1',
        srcport: 20641, dstport: 22, protocol: 6, packets: 20, bytes: 4249, start: 1418530010, end: 1418530070, action: 'ACCEPT', log_status: 'OK',
      });
      expect(items[0]!.time).to.equal('2014-12-14T04:06:50.000Z');
      const nodata = events(await parse(vpcflowFormat, fixture('vpcflow/no-data-skip-data.log')));
      expect(nodata[0]!.event).to.include({ srcaddr: null, packets: null, action: null, log_status: 'NODATA' });
    });

    it('reads a custom format named by its header line, every Cortex XDR field included', async () => {
      const header = 'account-id action az-id bytes dstaddr dstport end flow-direction instance-id interface-id packets log-status pkt-srcaddr pkt-dstaddr protocol region srcaddr srcport start sublocation-id sublocation-type subnet-id tcp-flags type vpc-id version';
      const line = '123456789010 ACCEPT use1-az5 4249 10.0.0.62 5001 1566848933 ingress i-0123 eni-1235 8 OK 52.213.180.42 10.0.0.62 6 us-east-1 52.213.180.42 43416 1566848875 - - subnet-aaaa 2 IPv4 vpc-abcd 5';
      const [item] = events(await parse(vpcflowFormat, `${header}\n${line}\n`));
      expect(item!.event).to.deep.include({ account_id: '123456789010', az_id: 'use1-az5', flow_direction: 'ingress', tcp_flags: 2, sublocation_id: null, version: 5, bytes: 4249, type: 'IPv4', pkt_srcaddr: '52.213.180.42' });
      expect(Object.keys(item!.event)).to.have.length(26);
      const custom = events(await parse(vpcflowFormat, fixture('vpcflow/tcp-flag-sequence.log')));
      expect(custom[0]!.event).to.include({ vpc_id: 'vpc-abcdefab012345678', tcp_flags: 2 });
    });

    it('skips a line with the wrong number of fields, with its line number, and keeps the rest', async () => {
      const text = `${readFileSync(new URL('../fixtures/vpcflow/accept-reject-traffic.log', import.meta.url), 'utf8')}2 too few fields\n`;
      const items = await parse(vpcflowFormat, text);
      expect(bad(items)[0]!.bad).to.deep.equal({ line: 6, reason: 'expected 14 fields as the header names, found 4' });
      expect(events(items)).to.have.length(4);
      expect(bad(await parse(vpcflowFormat, fixture('vpcflow/bad.log')))).to.have.length(1);
    });

    it('reads headerless records by vpcflow.fields, given as AWS shows the format or as a list; a header that agrees is skipped', async () => {
      const text = readFileSync(new URL('../fixtures/vpcflow/tcp-flag-sequence.log', import.meta.url), 'utf8');
      const [header, ...lines] = text.trim().split('\n');
      const fields = header!.split(' ');
      const asAwsShowsIt = sourceSchema.parse({ id: 'f', bucket: 'flow-bucket', region: 'us-east-1', format: 'vpcflow', vpcflow: { fields: fields.map((name) => `\${${name}}`).join(' ') } }).vpcflow!.fields!;
      expect(asAwsShowsIt).to.deep.equal(fields);
      // What a parse thread is given carries them.
      expect(formatConfigOf({ format: 'vpcflow', vpcflow: { fields: asAwsShowsIt }, envelope: 'cloudwatch_logs' })).to.deep.include({ vpcflow: { fields }, envelope: 'cloudwatch_logs' });
      const withHeader = events(await parse(vpcflowFormat, text));
      const headerless = events(await parse(vpcflowWithFields(asAwsShowsIt), `${lines.join('\n')}\n`));
      expect(headerless.map((item) => item.event)).to.deep.equal(withHeader.map((item) => item.event));
      expect(headerless[0]!.event).to.include({ version: 3, vpc_id: 'vpc-abcdefab012345678', tcp_flags: 2 });
      // The same file with its header: the header agrees, and is skipped.
      expect(events(await parse(vpcflowWithFields(fields), text)).map((item) => item.event)).to.deep.equal(withHeader.map((item) => item.event));
      // Without vpcflow.fields, the headerless lines are not the default format: each is a bad line that says so.
      const unnamed = await parse(vpcflowFormat, `${lines[0]}\n`);
      expect(bad(unnamed)[0]!.bad.reason).to.equal(`expected 14 fields as the default format names (no header line, no vpcflow.fields), found ${fields.length}`);
    });

    it('a header inside a file is skipped when it repeats, and names the lines after it when it differs; one that differs from vpcflow.fields is said once', async () => {
      const v2 = readFileSync(new URL('../fixtures/vpcflow/accept-reject-traffic.log', import.meta.url), 'utf8').trim();
      const v3 = readFileSync(new URL('../fixtures/vpcflow/tcp-flag-sequence.log', import.meta.url), 'utf8').trim();
      const joined = `${v2}\n${v2.split('\n')[0]}\n${v3}\n`;
      const items = await parse(vpcflowFormat, joined);
      expect(bad(items)).to.deep.equal([]);
      const read = events(items);
      expect(read).to.have.length(v2.split('\n').length - 1 + v3.split('\n').length - 1);
      expect(read[0]!.event).to.have.property('interface_id');
      expect(read.at(-1)!.event).to.include({ vpc_id: 'vpc-abcdefab012345678' });

      const configured = await parse(vpcflowWithFields(VPCFLOW_V2), `${v3}\n`);
      expect(bad(configured).map((item) => item.bad.line)).to.deep.equal([1]);
      expect(bad(configured)[0]!.bad.reason).to.match(/^the header names other fields than vpcflow.fields \(version vpc-id subnet-id/);
      expect(events(configured)[0]!.event).to.include({ vpc_id: 'vpc-abcdefab012345678' });
    });

    it('vpcflow.fields must name fields (validate says which is wrong), and only vpcflow reads it', () => {
      const parse = (extra: Record<string, unknown>) => sourceSchema.safeParse({ id: 'f', bucket: 'flow-bucket', region: 'us-east-1', format: 'vpcflow', ...extra });
      expect(parse({ vpcflow: { fields: ['version', 'srcaddr'] } }).success).to.equal(true);
      const wrong = parse({ vpcflow: { fields: '${version} ${Src Addr}' } });
      expect(wrong.success).to.equal(false);
      expect(JSON.stringify(wrong.error?.issues)).to.contain('is not a flow log field name');
      expect(parse({ format: 'lines', vpcflow: { fields: ['version'] } }).success).to.equal(false);
    });

    it('reads a gzipped real flow log', async () => {
      const flows = events(await parse(vpcflowFormat, fixture('vpcflow/vpcflow.log.gz')));
      expect(flows).to.have.length(2);
      expect(flows[0]!.event).to.include({ interface_id: 'eni-abc123de', srcaddr: '172.31.9.69', dstaddr: '172.31.9.12', dstport: 3389, action: 'ACCEPT' });
      expect(flows[1]!.event).to.include({ dstaddr: '172.31.9.21', bytes: 5060 });
    });
  });

  it('lines: one event per non-empty line', async () => {
    const items = events(await parse(linesFormat, 'first\r\n\nsecond'));
    expect(items.map((item) => item.event)).to.deep.equal([{ message: 'first' }, { message: 'second' }]);
  });

  it('jsonlines: one object per line; a bad line is skipped with its number', async () => {
    const items = await parse(jsonlinesFormat, '{"a":1}\nnot json\n[1]\n{"b":2}\n');
    expect(events(items).map((item) => item.event)).to.deep.equal([{ a: 1 }, { b: 2 }]);
    expect(bad(items).map((item) => item.bad.line)).to.deep.equal([2, 3]);
  });

  it('decode: gunzips by magic bytes whatever the name, passes plain bytes through', async () => {
    expect(events(await parse(linesFormat, gzipSync('zipped\n'))).map((item) => item.event)).to.deep.equal([{ message: 'zipped' }]);
    expect(events(await parse(linesFormat, 'plain\n')).map((item) => item.event)).to.deep.equal([{ message: 'plain' }]);
  });
});

function gunzipFixture(name: string): string {
  return gunzipSync(fixture(name)).toString('utf8');
}

describe('vpcflow: Parquet flow logs (the columns and types AWS documents), read row group by row group', () => {
  /** A Parquet flow log as AWS writes one: its documented columns with their Parquet types. */
  function parquetFlowLog(rows: number, codec: 'SNAPPY' | 'GZIP'): Buffer {
    const at = (index: number) => 1795428000 + index * 60;
    const columnData = [
      { name: 'version', type: 'INT32' as const, data: Array.from({ length: rows }, () => 5) },
      { name: 'account_id', type: 'STRING' as const, data: Array.from({ length: rows }, () => '123456789010') },
      { name: 'interface_id', type: 'STRING' as const, data: Array.from({ length: rows }, (_, index) => `eni-${String(index).padStart(17, '0')}`) },
      { name: 'srcaddr', type: 'STRING' as const, data: Array.from({ length: rows }, (_, index) => `10.0.${index % 250}.5`) },
      { name: 'dstaddr', type: 'STRING' as const, data: Array.from({ length: rows }, () => '203.0.113.12') },
      { name: 'srcport', type: 'INT32' as const, data: Array.from({ length: rows }, (_, index) => 49000 + index) },
      { name: 'dstport', type: 'INT32' as const, data: Array.from({ length: rows }, () => 443) },
      { name: 'protocol', type: 'INT32' as const, data: Array.from({ length: rows }, () => 6) },
      { name: 'packets', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(20 + index)) },
      { name: 'bytes', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(4249 + index)) },
      { name: 'start', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(at(index))) },
      { name: 'end', type: 'INT64' as const, data: Array.from({ length: rows }, (_, index) => BigInt(at(index) + 60)) },
      { name: 'action', type: 'STRING' as const, data: Array.from({ length: rows }, (_, index) => (index % 3 === 0 ? 'REJECT' : 'ACCEPT')) },
      { name: 'log_status', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'OK') },
      { name: 'vpc_id', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'vpc-abcdefab012345678') },
      { name: 'tcp_flags', type: 'INT32' as const, data: Array.from({ length: rows }, (_, index) => (index % 2 === 0 ? 2 : null)) },
      { name: 'flow_direction', type: 'STRING' as const, data: Array.from({ length: rows }, () => 'egress') },
    ];
    const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) };
    return Buffer.from(parquetWriteBuffer({ columnData, codec, compressors, rowGroupSize: 7 }));
  }

  it('every row of every row group is an event, typed and named as in the text format, whatever its compression', async () => {
    for (const codec of ['SNAPPY', 'GZIP'] as const) {
      const items = await parse(vpcflowFormat, parquetFlowLog(20, codec));
      expect(bad(items), codec).to.deep.equal([]);
      const read = events(items);
      expect(read, codec).to.have.length(20);
      expect(read[0]!.event).to.deep.equal({
        version: 5, account_id: '123456789010', interface_id: 'eni-00000000000000000', srcaddr: '10.0.0.5', dstaddr: '203.0.113.12', srcport: 49000, dstport: 443,
        protocol: 6, packets: 20, bytes: 4249, start: 1795428000, end: 1795428060, action: 'REJECT', log_status: 'OK', vpc_id: 'vpc-abcdefab012345678', tcp_flags: 2, flow_direction: 'egress',
      });
      expect(read[0]!.time).to.equal('2026-11-23T10:00:00.000Z');
      expect(read[1]!.event).to.include({ tcp_flags: null, action: 'ACCEPT' });
      expect(read[19]!.event).to.include({ srcport: 49019, start: 1795428000 + 19 * 60 });
    }
  });

  it('a file that begins like Parquet but is not whole is the object\'s fault, named', async () => {
    const whole = parquetFlowLog(5, 'SNAPPY');
    let failure: Error | undefined;
    try {
      await parse(vpcflowFormat, whole.subarray(0, whole.length - 30));
    } catch (error) {
      failure = error as Error;
    }
    expect(failure).to.be.instanceOf(ObjectDataError);
    expect(failure!.message).to.match(/^test-key: not a readable Parquet file \(/);
  });
});

describe('cloudfront_realtime: CloudFront real-time logs as Firehose writes them (tab-separated, the configured fields)', () => {
  const allFields = fixture('cloudfront/realtime-all-fields.fields').toString('utf8').trim();
  const sourceWith = (extra: Record<string, unknown>) => sourceSchema.safeParse({ id: 'cf', bucket: 'cf-bucket', region: 'us-east-1', format: 'cloudfront_realtime', ...extra });
  const formatOf = (fields: string | string[]) => formatFor(sourceWith({ cloudfront_realtime: { fields } }).data!);

  it('names every value by the configured fields, types counts and times as numbers, and takes the time from timestamp', async () => {
    const items = await parse(formatOf(allFields), fixture('cloudfront/realtime-all-fields.log'));
    expect(bad(items)).to.deep.equal([]);
    const all = events(items);
    expect(all).to.have.length(3);
    expect(Object.keys(all[0]!.event)).to.include.members(allFields.split(' ').map((name) => name.replaceAll('-', '_')));
    expect(all[0]!.event).to.include({
      timestamp: 1795428000.123, c_ip: '192.0.2.100', time_to_first_byte: 0.002, sc_status: 200, sc_bytes: 1045, cs_method: 'GET', cs_uri_stem: '/index.html',
      x_edge_location: 'SEA19-C1', time_taken: 0.002, c_port: 52813, c_country: 'US', cs_headers_count: 2, origin_fbl: 0.001, asn: 16509, cs_cookie: null, sc_range_start: null,
    });
    expect(all[0]!.time).to.equal('2026-11-23T10:00:00.123Z');
    expect(all[2]!.event).to.include({ sc_status: 206, sc_range_start: 0, sc_range_end: 1048575, x_forwarded_for: '203.0.113.9', origin_fbl: 0.04 });
    expect(all[1]!.event).to.include({ c_ip: '2001:db8::1', c_ip_version: 'IPv6', origin_fbl: null });
  });

  it('decodes the fields CloudFront writes URL-encoded: user agent, query string, and the viewer\'s headers', async () => {
    const [first, , third] = events(await parse(formatOf(allFields), fixture('cloudfront/realtime-all-fields.log')));
    expect(first!.event['cs_user_agent']).to.equal('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
    expect(first!.event['cs_uri_query']).to.equal('q=s3pull test&lang=en');
    expect(first!.event['cs_headers']).to.equal('host:www.example.com\nuser-agent:Mozilla/5.0\n');
    expect(first!.event['cs_header_names']).to.equal('host\nuser-agent\n');
    expect(third!.event['cs_user_agent']).to.equal('AppleCoreMedia/1.0.0.21F79 (iPhone; U; CPU OS 17_5 like Mac OS X; en_us)');
  });

  it('reads a configuration of a few fields, given as a list, and timestamp(ms) as the time', async () => {
    const format = formatOf(['timestamp(ms)', 'c-ip', 'sc-status', 'cs-uri-stem']);
    const [item] = events(await parse(format, '1795428000123\t192.0.2.1\t301\t/old\n'));
    expect(item!.event).to.deep.equal({ timestamp_ms: 1795428000123, c_ip: '192.0.2.1', sc_status: 301, cs_uri_stem: '/old' });
    expect(item!.time).to.equal('2026-11-23T10:00:00.123Z');
  });

  it('a line whose value count differs from the fields, a standard-log header, or a timestamp that is not epoch seconds is a bad line that says so', async () => {
    const format = formatOf('timestamp c-ip sc-status');
    const items = await parse(format, '#Version: 1.0\n1795428000.1\t192.0.2.1\n1795428000.1\t192.0.2.1\t200\nyesterday\t192.0.2.1\t200\n');
    expect(events(items)).to.have.length(1);
    expect(bad(items).map((item) => [item.bad.line, item.bad.reason])).to.deep.equal([
      [1, 'a CloudFront standard log header; real-time logs have none (a standard log is read with format w3c)'],
      [2, "2 tab-separated values where cloudfront_realtime.fields names 3 (the fields must be the real-time log configuration's, in its order)"],
      [4, 'timestamp yesterday is not epoch seconds (such as 1795428000.123)'],
    ]);
  });

  it('the fields are required, each a field name, none twice, and only this format reads them', () => {
    expect(sourceWith({ cloudfront_realtime: { fields: allFields } }).success).to.equal(true);
    expect(JSON.stringify(sourceWith({}).error?.issues)).to.contain('format cloudfront_realtime needs cloudfront_realtime.fields');
    expect(JSON.stringify(sourceWith({ cloudfront_realtime: { fields: 'timestamp C IP' } }).error?.issues)).to.contain('\\"C\\" is not a CloudFront real-time log field name');
    expect(JSON.stringify(sourceWith({ cloudfront_realtime: { fields: ['c-ip', 'c-ip'] } }).error?.issues)).to.contain('names c-ip twice');
    expect(sourceWith({ format: 'w3c', cloudfront_realtime: { fields: ['c-ip'] } }).success).to.equal(false);
  });
});
