import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigOrExplain, ExitCode, type GlobalOptions } from './context.js';
import { fetchChain, loadTrustStore, type CertificateInfo } from '../net/trust.js';
import { table } from './summary.js';

export function registerCerts(program: Command): void {
  const certs = program.command('certs').description('the CA certificates s3pull trusts beyond the public ones (certs_dir)');

  certs
    .command('fetch')
    .argument('<host[:port]>', 'the S3 endpoint, port 443 by default')
    .description("acquire the certificate chain a server presents, print each certificate's subject, expiry and SHA-256 fingerprint, and save it into certs_dir; compare the fingerprints with your CA before you rely on them")
    .action(async (target: string, _options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      const [host, port] = parseTarget(target);
      let chain: CertificateInfo[];
      try {
        chain = await fetchChain(host, port);
      } catch (error) {
        throw new ExitCode(1, `s3pull certs fetch: ${(error as Error).message}`);
      }
      printCertificates(chain);
      mkdirSync(config.collector.certs_dir, { recursive: true });
      const file = path.join(config.collector.certs_dir, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}_${port}.pem`);
      writeFileSync(file, chain.map((cert) => cert.pem).join(''), { mode: 0o644 });
      process.stdout.write(`\nsaved ${chain.length} certificate(s) to ${file}\nTLS verification stays on: every source now trusts these certificates (reload or restart the service).\n`);
    });

  certs
    .command('list')
    .description('print every certificate in certs_dir: file, subject, expiry, SHA-256 fingerprint')
    .action((_options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      const problems: string[] = [];
      const trust = loadTrustStore(config.collector.certs_dir, problems);
      if (trust.extra.length === 0) {
        process.stdout.write(`no extra certificates in ${config.collector.certs_dir}: only the public roots are trusted\n`);
        return;
      }
      printCertificates(trust.extra);
    });
}

function parseTarget(target: string): [string, number] {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(target);
  if (!match) {
    process.stderr.write(`s3pull certs fetch: <${target}> is not HOST or HOST:PORT\n`);
    throw new ExitCode(2);
  }
  return [match[1]!, Number(match[2] ?? 443)];
}

export function printCertificates(certificates: CertificateInfo[]): void {
  const now = Date.now();
  process.stdout.write(
    table(
      ['SUBJECT', 'ISSUER', 'EXPIRES', 'SHA-256 FINGERPRINT'],
      certificates.map((cert) => [
        cert.subject,
        cert.issuer,
        cert.validTo.toISOString().slice(0, 10) + (cert.validTo.getTime() < now ? ' EXPIRED' : ''),
        cert.fingerprint256,
      ]),
    ),
  );
}
