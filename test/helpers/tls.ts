/** A private CA and an HTTPS front for moto signed by it, made with openssl for each run. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { forwardTo } from './forwarder.js';
import path from 'node:path';
import { tempDir } from './source.js';

export interface TestCa {
  dir: string;
  caPem: string;
  serverKey: string;
  serverPem: string;
}

export function makeTestCa(): TestCa {
  const dir = tempDir('s3pull-ca-');
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=s3pull test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  // A client certificate, for receivers that ask for one (RELP over TLS).
  run('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=s3pull-client');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2', '-extfile', 'client.ext');
  return {
    dir,
    caPem: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    serverKey: readFileSync(path.join(dir, 'server.key'), 'utf8'),
    serverPem: readFileSync(path.join(dir, 'server.pem'), 'utf8'),
  };
}

/** An HTTPS endpoint in front of moto, presenting the server certificate and the CA. */
export async function startHttpsFront(ca: TestCa, target: string): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server: Server = createServer({ key: ca.serverKey, cert: ca.serverPem + ca.caPem }, forwardTo(target));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
