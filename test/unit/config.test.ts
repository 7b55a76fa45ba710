import { expect } from 'chai';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/source.js';

const GOOD_SOURCE = `
id: trail
bucket: acme-trail
prefix: AWSLogs/111122223333/CloudTrail/us-east-1/
region: us-east-1
format: cloudtrail
`;

function configDir(files: Record<string, string>): string {
  const dir = tempDir('s3pull-conf-');
  mkdirSync(path.join(dir, 'sources.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

function problemsOf(dir: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(dir, env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

function withSource(extra: string): string[] {
  return problemsOf(configDir({ 'sources.d/a.yaml': GOOD_SOURCE + extra }));
}

describe('config', () => {
  it('fills the defaults of JSA and DESIGN.md', () => {
    const config = loadConfig(configDir({ 'sources.d/a.yaml': GOOD_SOURCE }), {});
    const source = config.sources[0]!;
    expect(source).to.include({ eps_throttle: 5000, recurrence: 300_000, late_window: 3_600_000, listing: 'marker', max_attempts: 5, enabled: true, concurrency: 4 });
    expect(source.start).to.equal('beginning');
    expect(source.auth).to.deep.equal({ type: 'default' });
    expect(config.collector.output).to.deep.equal({ type: 'stdout' });
  });

  it('reads prefix "/" as the bucket root', () => {
    const config = loadConfig(configDir({ 'sources.d/a.yaml': GOOD_SOURCE.replace(/prefix: .*/, 'prefix: /') }), {});
    expect(config.sources[0]!.prefix).to.equal('');
  });

  it('refuses a prefix that begins with "/", naming file, field and value', () => {
    const problems = problemsOf(configDir({ 'sources.d/a.yaml': GOOD_SOURCE.replace(/prefix: .*/, 'prefix: /AWSLogs/') }));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/sources\.d\/a\.yaml: field prefix <\/AWSLogs\/>: must not begin with "\/"/);
  });

  it('accepts JSA recurrences 15M, 2H, 1D and "15 M"', () => {
    for (const [text, ms] of [['15M', 900_000], ['2H', 7_200_000], ['1D', 86_400_000], ['15 M', 900_000], ['1m', 60_000]] as const) {
      const config = loadConfig(configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}recurrence: ${text}\n` }), {});
      expect(config.sources[0]!.recurrence, text).to.equal(ms);
    }
  });

  it('refuses a recurrence under one minute or without a unit', () => {
    expect(withSource('recurrence: 30s\n')[0]).to.match(/field recurrence <30s>: recurrence must be at least 60s/);
    expect(withSource('recurrence: 15\n')[0]).to.match(/field recurrence <15>: recurrence must be a number and a unit/);
  });

  it('takes a cron schedule instead, but not both', () => {
    const config = loadConfig(configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}schedule: "*/10 * * * *"\n` }), {});
    expect(config.sources[0]!.schedule).to.equal('*/10 * * * *');
    expect(config.sources[0]!.recurrence).to.equal(undefined);
    expect(withSource('schedule: "*/10 * * * *"\nrecurrence: 5M\n')[0]).to.contain('set either recurrence or schedule, not both');
    expect(withSource('schedule: "every tuesday"\n')[0]).to.match(/field schedule <every tuesday>: must be a cron expression/);
  });

  it('refuses unknown keys, so that a typo does not silently disable a setting', () => {
    expect(withSource('eps_trottle: 100\n')[0]).to.match(/a\.yaml:.*unknown field eps_trottle/);
    expect(withSource('auth: { type: access_key, access_key_id: A, secret_access_key: B, sesion_token: C }\n')[0]).to.match(/field auth.*unknown field sesion_token/);
  });

  it('names the field of a bad value: eps_throttle, format, region, bucket, file_pattern, start', () => {
    expect(withSource('eps_throttle: -1\n')[0]).to.match(/field eps_throttle <-1>: must be 0 \(no limit\) or more/);
    expect(problemsOf(configDir({ 'sources.d/a.yaml': GOOD_SOURCE.replace('format: cloudtrail', 'format: cef') }))[0]).to.match(/field format <cef>/);
    expect(problemsOf(configDir({ 'sources.d/a.yaml': GOOD_SOURCE.replace('region: us-east-1', 'region: Virginia') }))[0]).to.match(/field region <Virginia>: must be an AWS region/);
    expect(problemsOf(configDir({ 'sources.d/a.yaml': GOOD_SOURCE.replace('bucket: acme-trail', 'bucket: Acme_Trail') }))[0]).to.match(/field bucket <Acme_Trail>: must be a valid S3 bucket name/);
    expect(withSource("file_pattern: '(unclosed'\n")[0]).to.match(/field file_pattern <\(unclosed>: is not a pattern s3pull can use: missing closing \)/);
    expect(withSource('start: { since: yesterday }\n')[0]).to.match(/field start.since <yesterday>: must be a date/);
  });

  it('takes max_record_bytes in bytes or KiB/MiB (8 MiB by default), and parse_threads auto or a count', () => {
    const sized = (value: string) => loadConfig(configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}max_record_bytes: ${value}\n` }), {}).sources[0]!.max_record_bytes;
    expect([sized('4096'), sized('512KiB'), sized('16 MiB'), sized('2MB')]).to.deep.equal([4096, 524_288, 16_777_216, 2_000_000]);
    expect(loadConfig(configDir({ 'sources.d/a.yaml': GOOD_SOURCE }), {}).sources[0]!.max_record_bytes).to.equal(8 * 1024 * 1024);
    expect(withSource('max_record_bytes: lots\n')[0]).to.match(/field max_record_bytes <lots>: max_record_bytes must be a number of bytes, or a number and a unit KiB, MiB or GiB/);
    expect(withSource('max_record_bytes: 1GiB\n')[0]).to.match(/max_record_bytes must be between 1KiB and 256MiB/);
    expect(loadConfig(configDir({ 'sources.d/a.yaml': GOOD_SOURCE }), {}).collector.parse_threads).to.equal('auto');
    expect(loadConfig(configDir({ 's3pull.yaml': 'parse_threads: 0\n', 'sources.d/a.yaml': GOOD_SOURCE }), {}).collector.parse_threads).to.equal(0);
    expect(problemsOf(configDir({ 's3pull.yaml': 'parse_threads: many\n', 'sources.d/a.yaml': GOOD_SOURCE }))[0]).to.match(/parse_threads <many>/);
    expect(loadConfig(configDir({ 's3pull.yaml': 'metrics: { listen: 127.0.0.1:9478 }\n', 'sources.d/a.yaml': GOOD_SOURCE }), {}).collector.metrics).to.deep.equal({ listen: { host: '127.0.0.1', port: 9478 } });
    expect(loadConfig(configDir({ 's3pull.yaml': "metrics: { listen: '[::1]:9478' }\n", 'sources.d/a.yaml': GOOD_SOURCE }), {}).collector.metrics!.listen.host).to.equal('::1');
    expect(problemsOf(configDir({ 's3pull.yaml': 'metrics: { listen: 9478 }\n', 'sources.d/a.yaml': GOOD_SOURCE }))[0]).to.match(/metrics\.listen/);
  });

  it('reports every problem of every file at once, and duplicate ids', () => {
    const dir = configDir({
      's3pull.yaml': 'output: { type: kafka }\n',
      'sources.d/a.yaml': GOOD_SOURCE,
      'sources.d/b.yaml': GOOD_SOURCE,
      'sources.d/c.yaml': 'id: c\nbucket: x\n',
      'sources.d/d.yaml': 'id: [unclosed\n',
    });
    const problems = problemsOf(dir);
    expect(problems.some((p) => /s3pull\.yaml: field output\.type/.test(p))).to.equal(true);
    expect(problems.some((p) => /b\.yaml: field id <trail>: is already used by .*a\.yaml/.test(p))).to.equal(true);
    expect(problems.some((p) => /c\.yaml: field bucket <x>/.test(p))).to.equal(true);
    expect(problems.some((p) => /c\.yaml: field region <missing>: is required/.test(p))).to.equal(true);
    expect(problems.some((p) => /c\.yaml: field format <missing>/.test(p))).to.equal(true);
    expect(problems.some((p) => /d\.yaml:\d+:\d+: invalid YAML/.test(p))).to.equal(true);
  });

  it('resolves ${env:NAME} and ${file:PATH}, and says which reference is missing', () => {
    const dir = configDir({
      'sources.d/a.yaml': `${GOOD_SOURCE}auth:\n  type: access_key\n  access_key_id: \${env:TRAIL_KEY_ID}\n  secret_access_key: \${file:secret.txt}\n`,
      'secret.txt': 'wJalrXUtnFEMI/K7MDENG\n',
    });
    const config = loadConfig(dir, { TRAIL_KEY_ID: 'AKIAEXAMPLE' });
    expect(config.sources[0]!.auth).to.deep.equal({ type: 'access_key', access_key_id: 'AKIAEXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG' });
    const problems = problemsOf(dir, {});
    expect(problems[0]).to.match(/field auth\.access_key_id: environment variable TRAIL_KEY_ID is not set/);
  });

  it('checks the auth types: instance_role, assume_role over a base, and their fields', () => {
    const config = loadConfig(configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}auth:\n  type: assume_role\n  role_arn: arn:aws:iam::111122223333:role/s3pull-reader\n  external_id: acme-7\n  base: { type: instance_role }\n` }), {});
    expect(config.sources[0]!.auth).to.deep.equal({
      type: 'assume_role', role_arn: 'arn:aws:iam::111122223333:role/s3pull-reader', external_id: 'acme-7', session_name: 's3pull', duration: 3_600_000, base: { type: 'instance_role' },
    });
    expect(withSource('auth: { type: assume_role, role_arn: "s3pull-reader" }\n')[0]).to.match(/field auth\.role_arn <s3pull-reader>: must be a role ARN/);
    expect(withSource('auth: { type: assume_role, role_arn: "arn:aws:iam::111122223333:role/r", duration: 5m }\n')[0]).to.match(/field auth\.duration <5m>: duration must be at least 900s/);
    expect(withSource('auth: { type: assume_role, role_arn: "arn:aws:iam::111122223333:role/r", base: { type: assume_role } }\n')[0]).to.match(/field auth\.base\.type <assume_role>/);
    expect(withSource('auth: { type: password }\n')[0]).to.match(/field auth\.type <password>/);
  });

  it('warns when a file readable by others holds a literal secret, not when it uses a reference', () => {
    const literal = configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}auth: { type: access_key, access_key_id: AKIA1, secret_access_key: plainsecret }\n` });
    chmodSync(path.join(literal, 'sources.d/a.yaml'), 0o644);
    const warned = loadConfig(literal, {}).warnings;
    expect(warned).to.have.length(1);
    expect(warned[0]).to.match(/a\.yaml: holds a literal secret \(auth\.secret_access_key\) and is readable by every user/);
    expect(warned[0]).to.not.contain('plainsecret');
    chmodSync(path.join(literal, 'sources.d/a.yaml'), 0o640);
    expect(loadConfig(literal, {}).warnings).to.deep.equal([]);
    const referenced = configDir({ 'sources.d/a.yaml': `${GOOD_SOURCE}auth: { type: access_key, access_key_id: AKIA1, secret_access_key: "\${env:S}" }\n` });
    chmodSync(path.join(referenced, 'sources.d/a.yaml'), 0o644);
    expect(loadConfig(referenced, { S: 'x' }).warnings).to.deep.equal([]);
  });

  it('never prints a literal secret in an error', () => {
    const problems = withSource('auth: { type: access_key, access_key_id: AKIA1, secret_access_key: "" }\n');
    expect(problems.join('\n')).to.not.contain('AKIA1');
    const literal = withSource('auth: { type: access_key, access_key_id: "", secret_access_key: verysecretvalue }\n');
    expect(literal.join('\n')).to.not.contain('verysecretvalue');
  });

  it('resolves paths in s3pull.yaml against the config folder', () => {
    const dir = configDir({ 's3pull.yaml': 'state: ../state/s.db\noutput: { type: file, path: out/events.ndjson }\n' });
    const config = loadConfig(dir, {});
    expect(config.collector.state).to.equal(path.resolve(dir, '../state/s.db'));
    expect(config.collector.output).to.deep.equal({ type: 'file', path: path.join(dir, 'out/events.ndjson') });
  });

  it('validates the shipped conf/ and conf/examples/', () => {
    // npm start sets the demo credentials in the environment; then the demo config warns of nothing.
    const demo = loadConfig('conf', { S3PULL_DEMO_KEY_ID: 'S3RVER', S3PULL_DEMO_SECRET: 'S3RVER' });
    expect(demo.sources.map((s) => s.id)).to.deep.equal(['demo-cloudtrail', 'demo-vpcflow']);
    expect(demo.warnings).to.deep.equal([]);
    // The example reads its secret from /etc/s3pull/secrets/trail, which this machine lacks.
    const problems = problemsOf('conf/examples', { TRAIL_KEY_ID: 'AKIAEXAMPLE', UMBRELLA_KEY_ID: 'AKIAEXAMPLE2', UMBRELLA_SECRET: 'x' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/cloudtrail-prod\.yaml: field auth\.secret_access_key: cannot read \/etc\/s3pull\/secrets\/trail \(ENOENT\)/);
  });

  it('validates the output examples in conf/examples/outputs/', () => {
    const examples = readdirSync('conf/examples/outputs');
    expect(examples).to.have.members(['qradar-syslog.yaml', 'splunk-hec.yaml', 'elasticsearch.yaml']);
    for (const name of examples) {
      const text = readFileSync(path.join('conf/examples/outputs', name), 'utf8').replace('${file:/etc/s3pull/secrets/hec-token}', 'hec-token');
      const config = loadConfig(configDir({ 's3pull.yaml': text.replace(/certs_dir: .*/, 'certs_dir: certs') }), { ES_API_KEY: 'a2V5' });
      expect(['syslog', 'http'], name).to.include(config.collector.output.type);
    }
  });
});
