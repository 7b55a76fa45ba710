/**
 * HTTP agents for one source's requests to one host: direct, or through its proxy (HTTP or HTTPS
 * proxy; plain-HTTP targets are forwarded, HTTPS targets tunnelled with CONNECT). A target host
 * matched by `no_proxy` (or, when the config lists none, the NO_PROXY environment variable) is
 * reached directly. Each client talks to one host (the S3 endpoint, or STS), so the choice is
 * made once, when the agents are built.
 *
 * http-proxy-agent and https-proxy-agent are used directly rather than through proxy-agent's
 * ProxyAgent: with keep-alive, ProxyAgent hands a reused socket to a request without adding the
 * Proxy-Authorization header, and the proxy answers 407 to every second request.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { ProxyServerConfig } from './options.js';
import { verifiedTls } from './trust.js';

export interface Agents {
  httpAgent: HttpAgent;
  httpsAgent: HttpAgent;
  /** Whether requests to the target go through the proxy. */
  proxied: boolean;
  destroy(): void;
}

export function agentsFor(proxy: ProxyServerConfig | 'none', target: URL, ca: string[] | undefined, env: NodeJS.ProcessEnv = process.env): Agents {
  const tls: AgentOptions = verifiedTls(ca);
  const httpsOptions: AgentOptions = { keepAlive: true, ...tls };
  const bypass = proxy === 'none' || noProxyMatcher(proxy.no_proxy ?? splitList(env.NO_PROXY ?? env.no_proxy))(target);
  if (bypass) {
    const httpAgent = new HttpAgent({ keepAlive: true });
    const httpsAgent = new HttpsAgent(httpsOptions);
    return { httpAgent, httpsAgent, proxied: false, destroy: () => (httpAgent.destroy(), httpsAgent.destroy()) };
  }
  const proxyUrl = proxyUrlWithCredentials(proxy);
  const httpAgent = new HttpProxyAgent(proxyUrl, { keepAlive: true });
  const httpsAgent = new TrustingHttpsProxyAgent(proxyUrl, httpsOptions, tls);
  return { httpAgent, httpsAgent, proxied: true, destroy: () => (httpAgent.destroy(), httpsAgent.destroy()) };
}

/**
 * https-proxy-agent builds the TLS connection to the target from the request's options only, so
 * a private CA given to its constructor never reaches that handshake; it is added here.
 */
class TrustingHttpsProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    options: AgentOptions,
    private readonly tls: AgentOptions,
  ) {
    super(proxy, options);
  }

  override connect(request: Parameters<HttpsProxyAgent<string>['connect']>[0], options: Parameters<HttpsProxyAgent<string>['connect']>[1]) {
    return super.connect(request, { ...options, ...this.tls } as typeof options);
  }
}

export function proxyUrlWithCredentials(proxy: ProxyServerConfig): string {
  const url = new URL(proxy.url);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return url.toString();
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/** curl's NO_PROXY rules: `*`, a host, `.domain` or `domain` (suffix), optionally `:port`. */
export function noProxyMatcher(entries: string[]): (url: URL) => boolean {
  const rules = entries.map((entry) => {
    const [host, port] = entry.toLowerCase().split(/:(?=\d+$)/);
    return { host: host!.replace(/^\*?\./, ''), port, wildcard: host === '*' };
  });
  return (url) => {
    const hostname = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return rules.some((rule) => {
      if (rule.wildcard) return true;
      if (rule.port && rule.port !== port) return false;
      return hostname === rule.host || hostname.endsWith(`.${rule.host}`);
    });
  };
}
