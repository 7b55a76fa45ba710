/** The SDK's HTTP handler for one AWS endpoint: through the source's proxy (or not), TLS verified against `ca`, with its timeouts. */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ProxyServerConfig } from '../net/options.js';
import { agentsFor, type Agents } from '../net/proxy.js';
import type { AuthConfig } from './options.js';

/** What every AWS client of a source is built from, besides its own settings. */
export interface AwsClientOptions {
  region: string;
  /** The service's endpoint where it is not AWS's own for the region (a VPC endpoint, a test server). */
  endpoint?: string | undefined;
  auth: AuthConfig;
  proxy: ProxyServerConfig | 'none';
  ca?: string[] | undefined;
  requestTimeoutMs: number;
  /** The source whose requests these are (counted per operation and day; see request-counts.ts). */
  sourceId?: string | undefined;
}

export function httpHandlerFor(proxy: ProxyServerConfig | 'none', target: URL, ca: string[] | undefined, requestTimeoutMs: number): { agents: Agents; handler: NodeHttpHandler } {
  const agents = agentsFor(proxy, target, ca);
  const handler = new NodeHttpHandler({
    httpAgent: agents.httpAgent,
    httpsAgent: agents.httpsAgent,
    connectionTimeout: Math.min(requestTimeoutMs, 10_000),
    // Until the response's headers: the SDK only warns on its console unless told to throw.
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true,
    // The longest silence of the connection, the body included: a server that stops sending in
    // the middle of an object would otherwise hold its pull (and the source) for ever.
    socketTimeout: requestTimeoutMs,
  });
  return { agents, handler };
}
