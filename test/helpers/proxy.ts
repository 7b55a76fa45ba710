/** A real HTTP proxy (npm `proxy`) on loopback, with basic auth, counting what passes through. */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createProxy } from 'proxy';

export interface TestProxy {
  url: string;
  port: number;
  /** Requests forwarded (plain HTTP targets) and tunnels opened (CONNECT), as "METHOD target". */
  seen: string[];
  refusedAuth: number;
  close(): Promise<void>;
}

export async function startProxy(options: { username?: string; password?: string; port?: number; tls?: { key: string; cert: string } } = {}): Promise<TestProxy> {
  const server = createProxy(options.tls ? (createTlsServer(options.tls) as unknown as Server) : createServer());
  const seen: string[] = [];
  let refusedAuth = 0;
  server.authenticate = (request) => {
    if (!options.username) return true;
    const expected = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    const ok = request.headers['proxy-authorization'] === expected;
    if (!ok) refusedAuth += 1;
    return ok;
  };
  server.on('request', (request) => seen.push(`${request.method} ${request.url}`));
  server.on('connect', (request) => seen.push(`CONNECT ${request.url}`));
  await new Promise<void>((resolve) => (server as Server).listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    seen,
    get refusedAuth() {
      return refusedAuth;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
