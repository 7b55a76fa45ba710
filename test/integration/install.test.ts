import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/source.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

describe('installing as a systemd service (into a staging root)', function () {
  this.timeout(120_000);
  let staged: string;

  before(() => {
    expect(existsSync(path.join(root, 'dist/cli/main.js')), 'dist/ is built by npm ci (prepare)').to.equal(true);
    staged = tempDir('s3pull-root-');
    execFileSync('bash', [path.join(root, 'scripts/install.sh'), '--root', staged], { stdio: 'pipe' });
  });

  it('lays down the program, the CLI wrapper, config, state and log folders with tight modes', () => {
    for (const file of ['opt/s3pull/bin/s3pull', 'opt/s3pull/dist/cli/main.js', 'usr/local/bin/s3pull', 'etc/s3pull/s3pull.yaml', 'etc/logrotate.d/s3pull', 'opt/s3pull/conf/monitoring/s3pull-alerts.yaml', 'opt/s3pull/conf/monitoring/s3pull-dashboard.json']) {
      expect(existsSync(path.join(staged, file)), file).to.equal(true);
    }
    const mode = (p: string) => statSync(path.join(staged, p)).mode & 0o777;
    expect(mode('var/lib/s3pull')).to.equal(0o700);
    expect(mode('etc/s3pull/secrets')).to.equal(0o700);
    expect(mode('etc/s3pull')).to.equal(0o750);
    expect(readFileSync(path.join(staged, 'usr/local/bin/s3pull'), 'utf8')).to.contain('S3PULL_CONFIG="${S3PULL_CONFIG:-/etc/s3pull}"');
    expect(existsSync(path.join(staged, 'opt/s3pull/node_modules/typescript')), 'dev dependencies pruned').to.equal(false);
  });

  it('installs a hardened unit that validates the config before it starts', () => {
    const unit = readFileSync(path.join(staged, 'etc/systemd/system/s3pull.service'), 'utf8');
    for (const line of [
      'User=s3pull',
      'Environment=S3PULL_CONFIG=/etc/s3pull',
      'ExecStartPre=/opt/s3pull/bin/s3pull validate',
      'ExecStart=/opt/s3pull/bin/s3pull run',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/s3pull /var/log/s3pull',
      'NoNewPrivileges=yes',
      'CapabilityBoundingSet=',
      'UMask=0027',
      'SystemCallFilter=@system-service',
      'PrivateUsers=yes',
      'ProcSubset=pid',
      'RemoveIPC=yes',
      'PrivateMounts=yes',
    ]) {
      expect(unit.split('\n'), line).to.include(line);
    }
    if (hasCommand('systemd-analyze')) {
      // verify checks that the commands exist, so point it at the staged copy of the program.
      const dir = tempDir('s3pull-unit-');
      writeFileSync(path.join(dir, 's3pull.service'), unit.replaceAll('/opt/s3pull', path.join(staged, 'opt/s3pull')));
      const verify = spawnSync('systemd-analyze', ['verify', path.join(dir, 's3pull.service')], { encoding: 'utf8' });
      expect(verify.stderr).to.equal('');
      expect(verify.status).to.equal(0);
      // The README quotes this figure; a unit that loses a protection raises it.
      const security = spawnSync('systemd-analyze', ['security', '--offline=true', path.join(dir, 's3pull.service')], { encoding: 'utf8' });
      const exposure = Number(/Overall exposure level for s3pull\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
      expect(exposure, security.stdout).to.be.at.most(1.2);
    }
  });

  it('the installed program runs on its production dependencies and validates the installed config', () => {
    const source = `id: trail\nbucket: acme-trail\nprefix: AWSLogs/111122223333/CloudTrail/us-east-1/\nregion: us-east-1\nformat: cloudtrail\n`;
    mkdirSync(path.join(staged, 'etc/s3pull/sources.d'), { recursive: true });
    writeFileSync(path.join(staged, 'etc/s3pull/sources.d/trail.yaml'), source);
    const result = spawnSync(path.join(staged, 'opt/s3pull/bin/s3pull'), ['validate', '--config', path.join(staged, 'etc/s3pull')], { encoding: 'utf8' });
    // The staging root has no /var/lib/s3pull (install.sh makes it on a real host): that, and nothing else, is worth a warning.
    const warnings = result.stderr.split('\n').filter(Boolean);
    expect(warnings.every((line) => /^warning: state \/var\/lib\/s3pull\/state\.db: the folder \/var\/lib\/s3pull does not exist yet/.test(line)), result.stderr).to.equal(true);
    expect(result.stdout).to.contain('configuration OK').and.contain('state: /var/lib/s3pull/state.db').and.contain('trail: s3://acme-trail/');
    expect(result.status).to.equal(0);
  });

  it('an upgrade keeps the config; uninstall keeps config and state unless --purge', () => {
    writeFileSync(path.join(staged, 'etc/s3pull/s3pull.yaml'), 'state: /var/lib/s3pull/state.db\n# edited by the operator\n');
    execFileSync('bash', [path.join(root, 'scripts/install.sh'), '--root', staged], { stdio: 'pipe' });
    expect(readFileSync(path.join(staged, 'etc/s3pull/s3pull.yaml'), 'utf8')).to.contain('edited by the operator');

    execFileSync('bash', [path.join(root, 'scripts/uninstall.sh'), '--root', staged], { stdio: 'pipe' });
    expect(existsSync(path.join(staged, 'opt/s3pull'))).to.equal(false);
    expect(existsSync(path.join(staged, 'etc/systemd/system/s3pull.service'))).to.equal(false);
    expect(existsSync(path.join(staged, 'etc/s3pull/s3pull.yaml'))).to.equal(true);
    expect(existsSync(path.join(staged, 'var/lib/s3pull'))).to.equal(true);

    execFileSync('bash', [path.join(root, 'scripts/uninstall.sh'), '--root', staged, '--purge'], { stdio: 'pipe' });
    expect(existsSync(path.join(staged, 'etc/s3pull'))).to.equal(false);
    expect(existsSync(path.join(staged, 'var/lib/s3pull'))).to.equal(false);
  });
});
