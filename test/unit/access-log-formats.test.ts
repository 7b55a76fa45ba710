import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { albFormat } from '../../src/formats/alb.js';
import { elbFormat } from '../../src/formats/elb.js';
import { s3accessFormat, s3AccessTime } from '../../src/formats/s3access.js';
import { tokenize } from '../../src/formats/tokenize.js';
import type { Format, ParsedItem } from '../../src/formats/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function parse(format: Format, bytes: Buffer | string): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of format.parse(Readable.from([typeof bytes === 'string' ? Buffer.from(bytes) : bytes]), { key: 'k' })) items.push(item);
  return items;
}
const events = (items: ParsedItem[]) => items.filter((item): item is Extract<ParsedItem, { event: unknown }> => 'event' in item);

describe('access-log formats (values checked against Filebeat\'s expected output for the same lines)', () => {
  it('tokenize: spaces, "quoted" with escapes, [bracketed]; unbalanced is refused', () => {
    expect(tokenize('a "b c" [d e] "x \\"y\\""')).to.deep.equal(['a', 'b c', 'd e', 'x "y"']);
    expect(tokenize('a "b')).to.equal(undefined);
  });

  it('alb: Application Load Balancer logs with typed fields and the entry time', async () => {
    const items = events(await parse(albFormat, fixture('elb/example-alb-http.log')));
    expect(items).to.have.length(9); // the file's nine entries (http, https, h2, ws, wss, …)
    expect(items[0]!.event).to.include({
      type: 'http',
      time: '2018-07-02T22:23:00.186641Z',
      client_ip: '192.168.131.39',
      client_port: 2817,
      request_processing_time: 0,
      elb_status_code: 200,
      target_status_code: 200,
      received_bytes: 34,
      sent_bytes: 366,
      request: 'GET http://www.example.com:80/ HTTP/1.1',
      target_group_arn: 'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067',
      trace_id: 'Root=1-58337262-36d228ad5d99923122bbe354',
      ssl_cipher: null,
    });
    expect(items[0]!.time).to.equal('2018-07-02T22:23:00.186641Z');
  });

  it('elb: Classic Load Balancer logs', async () => {
    const items = events(await parse(elbFormat, fixture('elb/elb-http.log')));
    expect(items.length).to.be.greaterThan(0);
    expect(items[0]!.event).to.include({ time: '2019-10-14T12:00:20.694172Z', elb: 'filebeat-aws-elb-test', client_ip: '175.16.199.1', client_port: 54106, backend_ip: '10.0.1.185', elb_status_code: 200, sent_bytes: 612 });
  });

  it('s3access: S3 server access logs, the bracketed time as ISO 8601', async () => {
    const items = events(await parse(s3accessFormat, fixture('s3access/test.log')));
    expect(items[0]!.event).to.include({
      bucket_owner: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
      bucket: 'awsexamplebucket',
      time: '2019-02-06T00:00:38.000Z',
      remote_ip: '192.0.2.3',
      request_id: '3E57427F3EXAMPLE',
      operation: 'REST.GET.VERSIONING',
      key: null,
      request_uri: 'GET /awsexamplebucket?versioning HTTP/1.1',
      http_status: 200,
      bytes_sent: 113,
      total_time: 7,
      user_agent: 'S3Console/0.4',
      signature_version: 'SigV2',
      authentication_type: 'AuthHeader',
      tls_version: 'TLSV1.1',
    });
    expect(items[0]!.time).to.equal('2019-02-06T00:00:38.000Z');
    expect(s3AccessTime('01/Aug/2019:00:24:41 +0200')).to.equal('2019-07-31T22:24:41.000Z');
  });

  it('a line with too few fields or a bad number is skipped and counted with its line number', async () => {
    const items = await parse(elbFormat, `short line\n${readFileSync(new URL('../fixtures/elb/elb-http.log', import.meta.url), 'utf8').split('\n')[0]!.replace(' 200 200 ', ' OK 200 ')}\n`);
    expect(items.map((item) => ('bad' in item ? item.bad : null))).to.deep.equal([
      { line: 1, reason: 'expected at least 11 fields of a elb log, found 2' },
      { line: 2, reason: 'elb_status_code <OK> is not a number' },
    ]);
  });
});
