import { expect } from 'chai';
import { Duplex } from 'node:stream';
import { RelpSession } from '../../src/sinks/relp.js';
import { datagram, frame, syslogFormatter } from '../../src/sinks/syslog-format.js';
import { shapeFor, readBulkResponse } from '../../src/sinks/http-shapes.js';
import { compileTemplate } from '../../src/sinks/template.js';
import { collectorSchema, httpOutputSchema, sourceSchema, syslogOutputSchema } from '../../src/config/schema.js';
import { sourceNamer } from '../../src/poll/identifier.js';
import { EnvelopeWriter } from '../../src/pipeline/envelope.js';
import type { OutputRecord } from '../../src/sinks/types.js';
import { encodeLines, joinLines, ndjsonOf, withNdjson } from '../../src/sinks/ndjson.js';

const record = (overrides: Partial<OutputRecord> = {}): OutputRecord => {
  const writer = new EnvelopeWriter({ sourceId: 'trail', source: overrides.source ?? 'trail', bucket: 'b', key: 'k', etag: 'e', format: 'cloudtrail', fallbackTime: '2026-01-01T00:00:00.000Z' });
  return { ...writer.record(0, { eventID: 'x', note: 'é' }, '2026-11-23T10:00:00Z', { category: 'read', outcome: 'success' }), ...overrides };
};

describe('outputs: syslog messages', () => {
  const syslog = (fields: Record<string, unknown> = {}) => syslogOutputSchema.parse({ type: 'syslog', host: 'siem', ...fields });

  it('RFC 5424: PRI, version, event time, HOSTNAME, APP-NAME, PROCID, MSGID the format, no SD, the envelope', () => {
    const text = syslogFormatter(syslog(), 42)(record());
    expect(text).to.equal(`<134>1 2026-11-23T10:00:00.000Z trail s3pull 42 cloudtrail - ${record().line}`);
  });

  it('RFC 3164: BSD time in UTC, hostname, tag, and the record alone when message is event', () => {
    const text = syslogFormatter(syslog({ protocol: 'rfc3164', message: 'event', facility: 'auth', severity: 'warning', hostname: '{host}', app_name: 'aws {format}' }))(record());
    expect(text).to.match(/^<36>Nov 23 10:00:00 \S+ aws_cloudtrail: \{"eventID":"x","note":"é"\}$/);
  });

  it('header fields are printable ASCII without spaces, cut to RFC 5424 lengths', () => {
    const text = syslogFormatter(syslog({ hostname: 'a b\tc', app_name: 'x'.repeat(60) }), 1)(record());
    expect(text.split(' ').slice(2, 4)).to.deep.equal(['a_b_c', 'x'.repeat(48)]);
  });

  it('octet counting counts bytes, not characters; lf ends the message', () => {
    expect(frame('é', 'octet_counting').toString()).to.equal('2 é');
    expect(frame('abc', 'lf').toString()).to.equal('abc\n');
  });

  it('a datagram is cut on a UTF-8 character boundary', () => {
    const cut = datagram('aé'.repeat(10), 4); // a(1) é(2) a(1) = 4 bytes
    expect(cut).to.deep.include({ truncated: true });
    expect(cut.bytes.toString()).to.equal('aéa');
    expect(datagram('aéé', 4).bytes.toString()).to.equal('aé');
    expect(datagram('short', 100).truncated).to.equal(false);
  });
});

describe('outputs: http shapes', () => {
  const http = (fields: Record<string, unknown>) => httpOutputSchema.parse({ type: 'http', url: 'https://receiver.example', ...fields });

  it('ndjson sends the envelope or the event', () => {
    expect(shapeFor(http({})).encode(record())).to.equal(`${record().line}\n`);
    expect(shapeFor(http({ message: 'event' })).encode(record())).to.equal('{"eventID":"x","note":"é"}\n');
  });

  it('elasticsearch puts @timestamp first and creates by id', () => {
    const [action, document] = shapeFor(http({ shape: 'elasticsearch', message: 'event' })).encode(record()).split('\n');
    expect(JSON.parse(action!)).to.deep.equal({ create: { _index: 's3pull-cloudtrail', _id: record().id } });
    expect(document).to.equal('{"@timestamp":"2026-11-23T10:00:00Z","eventID":"x","note":"é"}');
    expect(shapeFor(http({ shape: 'elasticsearch', message: 'event' })).encode({ ...record(), line: '{"event":{}}', eventOffset: 9 }).split('\n')[1]).to.equal('{"@timestamp":"2026-11-23T10:00:00Z"}');
  });

  it('reads _bulk responses: 201 and 409 delivered, 429/5xx again, other 4xx refused', () => {
    expect(readBulkResponse({ errors: false, items: [] })).to.deep.equal({ retry: [] });
    const outcome = readBulkResponse({ errors: true, items: [{ create: { status: 201 } }, { create: { status: 409 } }, { create: { status: 503 } }, { index: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad' } } }] });
    expect(outcome).to.deep.equal({ retry: [2], rejected: { position: 3, status: 400, reason: 'mapper_parsing_exception: bad' } });
  });

  it('templates fill source, source_id, format, host and date', () => {
    expect(compileTemplate('{source}/{source_id}/{format}/{date}/{host}', 'collector')(record({ source: 'acct-1' }))).to.equal('acct-1/trail/cloudtrail/2026.11.23/collector');
  });
});

describe('outputs and identifiers: config', () => {
  const collectorProblems = (output: unknown) => {
    const result = collectorSchema.safeParse({ output });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('syslog and http defaults are the usual ports and shapes', () => {
    expect(syslogOutputSchema.parse({ type: 'syslog', host: 'siem' })).to.include({ transport: 'tcp', protocol: 'rfc5424', framing: 'octet_counting', facility: 'local0', severity: 'info', hostname: '{source}', app_name: 's3pull', udp_max_bytes: 8192, retry_timeout: 300_000 });
    expect(httpOutputSchema.parse({ type: 'http', url: 'https://es:9200' })).to.include({ shape: 'ndjson', gzip: true, max_events: 500 });
  });

  it('names mistakes: unknown template fields, tls options without tls, a splunk token on another shape', () => {
    expect(collectorProblems({ type: 'syslog', host: 'siem', hostname: '{account}' })).to.deep.equal(['output.hostname: uses {account}; a template may use {source}, {source_id}, {format}, {host}, {date}']);
    expect(collectorProblems({ type: 'syslog', host: 'siem', tls: { server_name: 'x' } })).to.deep.equal(['output.tls: is for transport: tls or relp_tls']);
    expect(collectorProblems({ type: 'syslog', host: 'siem', transport: 'tls', tls: { cert: 'c.pem' } })).to.deep.equal(['output.tls: set both cert and key, or neither']);
    expect(collectorProblems({ type: 'http', url: 'https://x', shape: 'ndjson', auth: { type: 'splunk', token: 't' } })).to.deep.equal(['output.auth.type: splunk is for shape: splunk_hec']);
    expect(collectorProblems({ type: 'http', url: 'ftp://x' })[0]).to.match(/^output\.url: must be an http/);
  });

  it('identifier_pattern names events after named groups; a key that does not match keeps the source id', () => {
    const base = { id: 'gw', bucket: 'trail-bucket', region: 'us-east-1', format: 'cloudtrail' };
    const source = sourceSchema.parse({ ...base, identifier_pattern: 'AWSLogs/(?<account>\\d{12})/CloudTrail/(?<region>[^/]+)/' });
    const missed: string[] = [];
    const name = sourceNamer(source, (key) => missed.push(key));
    expect(name('AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/23/x.json.gz')).to.equal('111122223333-eu-west-1');
    expect(name('other/x.json.gz')).to.equal('gw');
    expect(missed).to.deep.equal(['other/x.json.gz']);
    const templated = sourceSchema.parse({ ...base, identifier_pattern: 'AWSLogs/(?<account>\\d{12})/', identifier: 'aws-{account}@{id}' });
    expect(sourceNamer(templated)('AWSLogs/111122223333/x')).to.equal('aws-111122223333@gw');
    const problems = (extra: Record<string, unknown>) => {
      const result = sourceSchema.safeParse({ ...base, ...extra });
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(problems({ identifier_pattern: 'AWSLogs/(\\d+)/' })[0]).to.match(/^identifier_pattern: must name at least one group/);
    expect(problems({ identifier_pattern: 'AWSLogs/(?<account>\\d+)/', identifier: '{acct}' })[0]).to.match(/^identifier: uses \{acct\}, which identifier_pattern does not name/);
    expect(problems({ identifier: '{id}' })[0]).to.equal('identifier: needs identifier_pattern, whose named groups it uses');
    expect(problems({ format: 'csv', records_path: 'a.b' })).to.deep.equal(['records_path: is for format json, not csv']);
    expect(problems({ format: 'csv', csv: { header: false } })).to.deep.equal(['csv.header: header: false needs columns (the files have no line naming them)']);
  });
});

describe('outputs: RELP framing', () => {
  /** A socket stand-in: keeps what the session writes, and feeds it the receiver's bytes in pieces. */
  function fakeSocket() {
    const written: string[] = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString());
        callback();
      },
    });
    return { socket, written, answer: (text: string) => socket.push(Buffer.from(text)) };
  }

  it('numbers transactions, and reads answers split anywhere, even inside the length', async () => {
    const { socket, written, answer } = fakeSocket();
    const session = new RelpSession(socket);
    const opened = session.open();
    expect(written[0]).to.equal('1 open 51 relp_version=0\nrelp_software=s3pull\ncommands=syslog\n');
    const offer = '200 OK\nrelp_version=0\ncommands=syslog';
    answer(`1 rsp ${offer.length}`.slice(0, 7));
    answer(`1 rsp ${offer.length}`.slice(7) + ` ${offer}\n`);
    await opened;
    const acknowledged = new Set<number>();
    const sent = session.send(['<134>1 a', 'é'], acknowledged);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.slice(1)).to.deep.equal(['2 syslog 8 <134>1 a\n', '3 syslog 2 é\n']);
    answer('2 rsp 6 200 OK\n3 rs');
    answer('p 6 200 OK\n');
    await sent;
    expect([...acknowledged]).to.deep.equal([0, 1]);
  });

  it('a refused message fails the send, keeping what was acknowledged', async () => {
    const { socket, answer } = fakeSocket();
    const session = new RelpSession(socket);
    const opened = session.open();
    const offer = '200 OK\nrelp_version=0\ncommands=syslog';
    answer(`1 rsp ${offer.length} ${offer}\n`);
    await opened;
    const acknowledged = new Set<number>();
    const sent = session.send(['a', 'b'], acknowledged);
    answer('2 rsp 6 200 OK\n3 rsp 16 500 out of space\n');
    let error: Error | undefined;
    await sent.catch((caught: Error) => (error = caught));
    expect(error?.message).to.equal('the RELP receiver refused a message: 500 out of space');
    expect([...acknowledged]).to.deep.equal([0]);
    answer('garbage that is not RELP at all, no digits first');
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.destroyed).to.equal(true);
  });
});

describe('NDJSON encoding', () => {
  it('encodes lines of any text exactly as joining them would, ASCII or not, and keeps the encoding made with a batch', () => {
    const lines = ['{"a":1}', '{"s":"é€"}', `{"s":"${'😀'.repeat(300)}"}`, `{"s":"${'x'.repeat(5000)}"}`, ''];
    for (const pick of [[0], [0, 3], [1, 2], [2, 2, 2], [0, 1, 2, 3, 4], [4]]) {
      const records = pick.map((index) => ({ ...record(), line: lines[index]! }));
      expect(encodeLines(records).toString('utf8'), `lines ${pick}`).to.equal(joinLines(records));
    }
    const batch = [record()];
    const made = Buffer.from('made elsewhere\n');
    expect(ndjsonOf(withNdjson(batch, made))).to.equal(made);
    // Another array of the same records (a batch filtered by dedup) is encoded again.
    expect(ndjsonOf([...batch]).toString('utf8')).to.equal(`${batch[0]!.line}\n`);
  });
});
