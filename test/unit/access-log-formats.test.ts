import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { albFormat } from '../../src/formats/alb.js';
import { elbFormat } from '../../src/formats/elb.js';
import { nlbFormat } from '../../src/formats/nlb.js';
import { albConnectionFormat } from '../../src/formats/alb-connection.js';
import { s3accessFormat, s3AccessTime } from '../../src/formats/s3access.js';
import { tokenize } from '../../src/formats/tokenize.js';
import { w3cFormat } from '../../src/formats/w3c.js';
import { networkfirewallFormat } from '../../src/formats/networkfirewall.js';
import { wafFormat } from '../../src/formats/waf.js';
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

  it('tokenize: quoted parts joined to what follows are one field, as NLB writes its ALPN list', () => {
    expect(tokenize('h2 "h2","http/1.1" next')).to.deep.equal(['h2', 'h2,http/1.1', 'next']);
    expect(tokenize('"a b"c "d"')).to.deep.equal(['a bc', 'd']);
    expect(tokenize('"a","b')).to.equal(undefined);
  });

  it('nlb: Network Load Balancer TLS logs, version 1.0 (Filebeat\'s test line) and 2.0 (ALPN, named group, connection creation time)', async () => {
    const v1 = await parse(nlbFormat, fixture('elb/example-nlb-tcp.log'));
    expect(v1).to.have.length(1);
    expect(events(v1)[0]!.event).to.deep.equal({
      type: 'tls', version: '1.0', time: '2018-12-20T02:59:40', elb: 'net/my-network-loadbalancer/c6e77e28c25b2234', listener: 'g3d4b5e8bb8464cd',
      client_ip: '89.160.20.112', client_port: 51341, destination_ip: '172.100.100.185', destination_port: 443,
      connection_time: 5, tls_handshake_time: 2, received_bytes: 98, sent_bytes: 246, incoming_tls_alert: null,
      chosen_cert_arn: 'arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99', chosen_cert_serial: null,
      tls_cipher: 'ECDHE-RSA-AES128-SHA', tls_protocol_version: 'tlsv12', tls_named_group: null,
      domain_name: 'my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com',
    });
    expect(events(v1)[0]!.time, 'a time without a zone is UTC').to.equal('2018-12-20T02:59:40Z');

    const v2 = events(await parse(nlbFormat, fixture('elb/nlb-tls-2.0.log')));
    expect(v2).to.have.length(3);
    expect(v2[0]!.event).to.include({ version: '2.0', alpn_fe_protocol: 'h2', alpn_be_protocol: 'h2', alpn_client_preference_list: 'h2,http/1.1', tls_connection_creation_time: '2026-11-23T10:00:38' });
    expect(v2[1]!.event).to.include({ connection_time: 1203, tls_handshake_time: null, incoming_tls_alert: 'decrypt_error', tls_cipher: null, alpn_fe_protocol: null });
    expect(v2[2]!.event).to.include({ client_ip: '198.51.100.7', client_port: 60211, chosen_cert_serial: '0a1b2c3d4e5f', tls_protocol_version: 'tlsv13', tls_named_group: 'x25519', domain_name: 'api.example.com' });
    expect(v2[2]!.time).to.equal('2026-11-23T10:02:00Z');
  });

  it('an NLB line read as alb is a bad line that names the format to use, not a shifted record; so is an ALB connection log line', async () => {
    const nlbLine = readFileSync(new URL('../fixtures/elb/example-nlb-tcp.log', import.meta.url), 'utf8');
    const [asAlb] = await parse(albFormat, nlbLine);
    expect(asAlb).to.deep.equal({ bad: { line: 1, reason: '"tls" is not an ALB request type (http, https, h2, grpcs, ws, wss) (a Network Load Balancer log line: format: nlb)' } });
    const connectionLine = readFileSync(new URL('../fixtures/elb/alb-connection.log', import.meta.url), 'utf8').split('\n')[0]!;
    const [connectionAsAlb] = await parse(albFormat, connectionLine);
    expect(connectionAsAlb).to.deep.equal({ bad: { line: 1, reason: '"2026-11-23T10:00:05.264542Z" is not an ALB request type (http, https, h2, grpcs, ws, wss) (an Application Load Balancer connection log line: format: alb_connection)' } });
    const [badTime] = await parse(albFormat, 'https yesterday app/x/1 1.2.3.4:1 5.6.7.8:2 0 0 0 200 200 1 2 "GET / HTTP/1.1" "ua" - -');
    expect(badTime).to.deep.equal({ bad: { line: 1, reason: 'time "yesterday" is not an ISO 8601 time' } });
    const [albAsNlb] = await parse(nlbFormat, readFileSync(new URL('../fixtures/elb/example-alb-http.log', import.meta.url), 'utf8').split('\n')[0]!);
    expect(albAsNlb).to.have.property('bad').that.deep.include({ reason: '"http" is not an NLB log type (tls)' });
  });

  it('alb_connection: Application Load Balancer connection logs (mutual TLS), the certificate validity split', async () => {
    const items = events(await parse(albConnectionFormat, fixture('elb/alb-connection.log')));
    expect(items).to.have.length(3);
    expect(items[0]!.event).to.deep.equal({
      time: '2026-11-23T10:00:05.264542Z', client_ip: '203.0.113.1', client_port: 36280, listener_port: 443, tls_protocol: 'TLSv1.2',
      tls_cipher: 'ECDHE-RSA-AES128-GCM-SHA256', tls_handshake_latency: 4,
      leaf_client_cert_subject: 'CN=amazondomains.com,O=endEntity,L=Seattle,ST=Washington,C=US',
      leaf_client_cert_validity: 'NotBefore=2023-09-21T22:43:21Z;NotAfter=2026-06-17T22:43:21Z', leaf_client_cert_serial_number: 'FEF257AF6FEB8F9FE6F9B4453A8FA2E0',
      tls_verify_status: 'Success', conn_trace_id: 'TID_1ec6dd9ac66e104895bd14f54f4b2c91',
      leaf_client_cert_not_before: '2023-09-21T22:43:21Z', leaf_client_cert_not_after: '2026-06-17T22:43:21Z',
    });
    expect(items[0]!.time).to.equal('2026-11-23T10:00:05.264542Z');
    expect(items[1]!.event).to.include({ leaf_client_cert_subject: null, leaf_client_cert_validity: null, tls_verify_status: 'Failed:UnmatchedTrustAnchor' });
    expect(items[2]!.event).to.include({ client_ip: '2001:db8::7', leaf_client_cert_subject: 'CN=client one,OU=devices,O=Example Corp,C=US', tls_verify_status: 'Success' });
    expect(items[2]!.event).to.not.have.property('conn_trace_id');
    const [albLine] = await parse(albConnectionFormat, readFileSync(new URL('../fixtures/elb/example-alb-http.log', import.meta.url), 'utf8').split('\n')[0]!);
    expect(albLine).to.have.property('bad').that.deep.include({ reason: 'time "http" is not an ISO 8601 time' });
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

describe('w3c, networkfirewall and waf', () => {
  it('w3c: CloudFront standard logs named by #Fields:, tab-separated, time from date and time', async () => {
    const items = events(await parse(w3cFormat, fixture('cloudfront/test-cloudfront.log')));
    expect(items.length).to.be.greaterThan(0);
    expect(items[0]!.event).to.include({ date: '2019-12-04', time: '21:02:31', x_edge_location: 'LAX1', sc_bytes: 392, c_ip: '89.160.20.112', cs_method: 'GET', cs_host: 'd111111abcdef8.cloudfront.net', cs_uri_stem: '/index.html', sc_status: 200, cs_referer: null, x_edge_result_type: 'Hit' });
    expect(items[0]!.time).to.equal('2019-12-04T21:02:31.000Z');
  });

  it('w3c: CloudFront\'s URL-encoded fields are decoded; a value that would read two ways keeps its raw form; one that is not percent-encoding stays as written', async () => {
    const [first] = events(await parse(w3cFormat, fixture('cloudfront/test-cloudfront.log')));
    expect(first!.event).to.include({ cs_user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36' });
    expect(first!.event).to.not.have.property('cs_user_agent_raw');
    const header = '#Version: 1.0\n#Fields: date time x-edge-location c-ip cs-uri-stem cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie)\n';
    const line = ['2026-11-23', '10:00:00', 'FRA56-P1', '192.0.2.7', '/search%20page', 'https://example.com/?q=a%2520b', 'curl/8.5.0', 'q=caf%C3%A9&x=%E0%A4%A', 'session%3Dabc%3B%20theme%3Ddark'].join('\t');
    const [item] = events(await parse(w3cFormat, `${header}${line}\n`));
    expect(item!.event).to.deep.equal({
      date: '2026-11-23', time: '10:00:00', x_edge_location: 'FRA56-P1', c_ip: '192.0.2.7',
      cs_uri_stem: '/search page',
      // Doubly encoded: decoded once it still reads as an escape, so what was written is kept too.
      cs_referer: 'https://example.com/?q=a%20b', cs_referer_raw: 'https://example.com/?q=a%2520b',
      cs_user_agent: 'curl/8.5.0',
      // A broken escape: decoding would guess, so the value stays as CloudFront wrote it.
      cs_uri_query: 'q=caf%C3%A9&x=%E0%A4%A',
      cs_cookie: 'session=abc; theme=dark',
    });
  });

  it('w3c: a line with fewer values than #Fields: names has null for the missing trailing fields; values beyond them are field_<n>', async () => {
    const text = '#Fields: date time x-edge-location sc-bytes c-ip\n2026-11-23\t10:00:00\tLAX1\n2026-11-23\t10:00:01\tLAX1\t392\t192.0.2.7\textra\n';
    const items = events(await parse(w3cFormat, text));
    expect(items.map((item) => item.event)).to.deep.equal([
      { date: '2026-11-23', time: '10:00:00', x_edge_location: 'LAX1', sc_bytes: null, c_ip: null },
      { date: '2026-11-23', time: '10:00:01', x_edge_location: 'LAX1', sc_bytes: 392, c_ip: '192.0.2.7', field_6: 'extra' },
    ]);
  });

  it('w3c: IIS logs are space-separated; an entry before #Fields: is skipped and counted', async () => {
    const items = await parse(w3cFormat, 'orphan line\n#Software: Microsoft IIS\n#Fields: date time c-ip cs-method sc-status time-taken\n2026-11-23 10:00:01 192.0.2.7 GET 404 15\n');
    expect('bad' in items[0]! && items[0].bad).to.deep.equal({ line: 1, reason: 'no #Fields: line before the first entry' });
    expect(events(items)[0]!.event).to.deep.equal({ date: '2026-11-23', time: '10:00:01', c_ip: '192.0.2.7', cs_method: 'GET', sc_status: 404, time_taken: 15 });
  });

  it('networkfirewall: each JSON line, with the Suricata event time as ISO 8601', async () => {
    const items = events(await parse(networkfirewallFormat, fixture('network-firewall/test-firewall.log')));
    expect(items[0]!.event).to.include({ firewall_name: 'AWSNetworkFirewall', availability_zone: 'us-east-2a' });
    expect(items[0]!.time).to.equal('2021-11-08T14:22:12.637Z');
  });

  it('waf: epoch milliseconds become ISO 8601', async () => {
    const items = events(await parse(wafFormat, '{"timestamp":1700000000123,"action":"BLOCK","httpRequest":{"clientIp":"192.0.2.1"}}\n'));
    expect(items[0]!.time).to.equal('2023-11-14T22:13:20.123Z');
    expect(items[0]!.event).to.include({ action: 'BLOCK' });
  });
});
