/**
 * The trust store: Node's public roots plus the CA certificates in `certs_dir` (PEM or DER, as
 * JSA's trusted-certificates folder takes them). Verification is never switched off; a private
 * CA is trusted by putting its certificate in the folder (`s3pull certs fetch` does that).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { connect, rootCertificates, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';

export interface CertificateInfo {
  file: string;
  subject: string;
  issuer: string;
  validTo: Date;
  fingerprint256: string;
  pem: string;
}

export interface TrustStore {
  /** Extra certificates from the folder (empty: Node's defaults alone). */
  extra: CertificateInfo[];
  /** `ca` for TLS options, or undefined to keep Node's default store. */
  ca: string[] | undefined;
}

const CERT_FILE = /\.(pem|crt|cer|der)$/i;

/**
 * The TLS options of every connection s3pull makes: verification is set on explicitly, so that
 * NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment (which Node applies to any connection that
 * leaves the option out) can never switch it off.
 */
export function verifiedTls(ca: string[] | undefined): { rejectUnauthorized: true; ca?: string[] } {
  return ca ? { rejectUnauthorized: true, ca } : { rejectUnauthorized: true };
}

let insecureSettingRemoved = false;

/**
 * Removes NODE_TLS_REJECT_UNAUTHORIZED=0 from the environment at start, so that no connection,
 * not even one the AWS SDK's credential chain makes with its own agent, skips verification.
 */
export function refuseInsecureEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    delete env.NODE_TLS_REJECT_UNAUTHORIZED;
    insecureSettingRemoved = true;
  }
}

/** A warning for the log when the environment asked Node to skip verification; s3pull does not. */
export function insecureEnvironmentWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!insecureSettingRemoved && env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') return undefined;
  return 'NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment; s3pull ignores it and verifies every TLS certificate (trust a private CA with certs_dir instead)';
}

/** Reads every certificate in `dir`; a file that holds none is a problem, named with its path. */
export function loadTrustStore(dir: string, problems: string[]): TrustStore {
  const extra: CertificateInfo[] = [];
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    for (const name of readdirSync(dir).filter((file) => CERT_FILE.test(file)).sort()) {
      const file = path.join(dir, name);
      try {
        const found = readCertificates(file);
        if (found.length === 0) problems.push(`${file}: no certificate in it (expected PEM "-----BEGIN CERTIFICATE-----" or DER)`);
        extra.push(...found);
      } catch (error) {
        problems.push(`${file}: not a certificate (${(error as Error).message})`);
      }
    }
  }
  return { extra, ca: extra.length > 0 ? [...rootCertificates, ...extra.map((cert) => cert.pem)] : undefined };
}

export function readCertificates(file: string): CertificateInfo[] {
  const bytes = readFileSync(file);
  const text = bytes.toString('latin1');
  const blocks = text.includes('-----BEGIN CERTIFICATE-----')
    ? (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    : [bytes];
  return blocks.map((block) => describe(new X509Certificate(block), file));
}

export function describe(certificate: X509Certificate, file = ''): CertificateInfo {
  return {
    file,
    subject: certificate.subject.replaceAll('\n', ', '),
    issuer: certificate.issuer.replaceAll('\n', ', '),
    validTo: new Date(certificate.validTo),
    fingerprint256: certificate.fingerprint256,
    pem: certificate.toString(),
  };
}

/** The chain as the server presents it. Verification is off for this one look only. */
export function fetchChain(host: string, port: number): Promise<CertificateInfo[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: false, timeout: 10_000 }, () => {
      const chain: CertificateInfo[] = [];
      const seen = new Set<string>();
      let current: DetailedPeerCertificate | PeerCertificate | undefined = socket.getPeerCertificate(true);
      while (current && current.raw && !seen.has(current.fingerprint256)) {
        seen.add(current.fingerprint256);
        chain.push(describe(new X509Certificate(current.raw)));
        current = (current as DetailedPeerCertificate).issuerCertificate;
      }
      socket.end();
      resolve(chain);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${host}:${port} did not answer within 10 s`));
    });
    socket.once('error', (error) => reject(new Error(`cannot connect to ${host}:${port}: ${error.message}`)));
  });
}

