import { randomUUID } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { HttpOutputConfig } from './options.js';
import type { ProxyServerConfig } from '../net/options.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { noProxyMatcher } from '../net/proxy.js';
import { verifiedTls } from '../net/trust.js';
import type { OutputRecord, Sink } from './types.js';
import { InFlight } from './in-flight.js';
import { DeliveryRetrier, RetryAfterError, untrustedCertificate } from './retry.js';
import { OutputRefusedError, OutputUnavailableError, RejectedEventsError } from '../util/errors.js';
import { readBulkResponse, shapeFor, type Shape } from './http-shapes.js';
import { describeOutput, httpTargetUrl } from './describe.js';

export interface HttpSinkDependencies {
  clock: Clock;
  log: Logger;
  ca?: string[] | undefined;
  proxy: ProxyServerConfig | 'none';
}

const USER_AGENT = 's3pull/0.1';
// In libuv's thread pool, so that parsing the next objects goes on while a batch is compressed.
const gzipAsync = promisify(gzip);

/**
 * Batched POSTs of events to an HTTP receiver (NDJSON, Splunk HEC, Elasticsearch _bulk), gzipped.
 * A batch resolves only when the receiver answered 2xx for every event of it (for _bulk: each item
 * created, or already there); a receiver that is down or busy is retried with backoff, honouring
 * Retry-After, for up to retry_timeout.
 */
export class HttpSink implements Sink {
  readonly description: string;
  private readonly url: URL;
  private readonly shape: Shape;
  private readonly dispatcher: Dispatcher;
  private readonly headers: Record<string, string>;
  /** For requests without a gzipped body (HEC acknowledgement queries, probes). */
  private readonly plainHeaders: Record<string, string>;
  private readonly retrier: DeliveryRetrier;
  private readonly inFlight = new InFlight();

  constructor(
    private readonly config: HttpOutputConfig,
    private readonly deps: HttpSinkDependencies,
  ) {
    this.shape = shapeFor(config);
    this.url = httpTargetUrl(config);
    this.description = describeOutput(config);
    this.dispatcher = dispatcherFor(this.url, deps.proxy, deps.ca);
    this.headers = {
      'user-agent': USER_AGENT,
      'content-type': this.shape.contentType,
      ...(config.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...authorization(config.auth),
      // HEC needs a channel for indexer acknowledgement, and ignores it when the token has none.
      ...(config.shape === 'splunk_hec' ? { 'x-splunk-request-channel': randomUUID() } : {}),
      ...config.headers,
    };
    const { 'content-encoding': _gzip, ...plainHeaders } = this.headers;
    this.plainHeaders = plainHeaders;
    this.retrier = new DeliveryRetrier({ clock: deps.clock, log: deps.log, target: this.description, timeoutMs: config.retry_timeout });
  }

  write(records: OutputRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    // Batches of different objects go out side by side (undici pools the connections), so that
    // one batch waiting for a slow receiver or a HEC acknowledgement does not hold up the others.
    return this.inFlight.track(
      (async () => {
        for (const chunk of this.chunks(records)) await this.send(chunk, signal);
      })(),
    );
  }

  /**
   * Asks without sending events: Splunk HEC answers an empty POST with "No data" (so the token was
   * taken), Elasticsearch answers GET / with its version; anything else gets a HEAD.
   */
  async probe(signal: AbortSignal): Promise<{ ok: true | 'warn'; text: string }> {
    const { method, url } =
      this.config.shape === 'splunk_hec' ? { method: 'POST' as const, url: this.url } : this.config.shape === 'elasticsearch' ? { method: 'GET' as const, url: new URL('/', this.url) } : { method: 'HEAD' as const, url: this.url };
    let status: number;
    let answer: string;
    try {
      const response = await request(url, { method, headers: method === 'POST' ? { ...this.plainHeaders, 'content-length': '0' } : this.plainHeaders, dispatcher: this.dispatcher, signal, headersTimeout: this.config.timeout });
      status = response.statusCode;
      answer = (await response.body.text()).slice(0, 200).replace(/\s+/g, ' ');
    } catch (error) {
      throw new OutputUnavailableError(`${this.description}: ${(untrustedCertificate(error) ?? (error as Error)).message}`, { cause: error });
    }
    if (status === 401 || status === 403) throw new OutputRefusedError(`${this.description}: the receiver refused the credentials (HTTP ${status}${answer ? `: ${answer}` : ''}); check the output's auth`);
    if (this.config.shape === 'splunk_hec' && (status === 400 || status < 300)) return { ok: true, text: `${this.description}: HEC took the token (${answer || `HTTP ${status}`})` };
    if (status >= 500 || status === 404) throw new OutputUnavailableError(`${this.description}: HTTP ${status}${answer ? `: ${answer}` : ''}${status === 404 ? '; check the output url' : ''}`);
    return { ok: true, text: `${this.description}: reachable (HTTP ${status})` };
  }

  async reopen(): Promise<void> {}

  async close(): Promise<void> {
    await this.inFlight.drain();
    await this.dispatcher.close();
  }

  /** Requests of at most max_events events and about max_bytes of body. */
  private *chunks(records: OutputRecord[]): Iterable<string[]> {
    let chunk: string[] = [];
    let bytes = 0;
    for (const record of records) {
      const encoded = this.shape.encode(record);
      if (chunk.length > 0 && (chunk.length >= this.config.max_events || bytes + encoded.length > this.config.max_bytes)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(encoded);
      bytes += encoded.length;
    }
    if (chunk.length > 0) yield chunk;
  }

  private async send(items: string[], signal: AbortSignal | undefined): Promise<void> {
    let pending = items;
    await this.retrier.run(async () => {
      pending = await this.post(pending, signal);
      if (pending.length > 0) throw new OutputUnavailableError(`${pending.length} of the batch's events were refused for now (HTTP 429 or 5xx per item)`);
    }, signal);
  }

  /**
   * With indexer acknowledgement on the token, HEC's 200 only says "received"; the batch counts as
   * delivered when /services/collector/ack says it was indexed. No answer within ack_timeout sends
   * the batch again (at least once), as Splunk's own forwarders do.
   */
  private async awaitHecAck(ackId: number, signal: AbortSignal | undefined): Promise<void> {
    const { clock } = this.deps;
    const ackUrl = new URL('/services/collector/ack', this.url);
    const deadline = clock.now() + this.config.splunk.ack_timeout;
    const body = JSON.stringify({ acks: [ackId] });
    for (let waitMs = ACK_POLL_FIRST_MS; ; waitMs = Math.min(waitMs * 2, ACK_POLL_MAX_MS)) {
      const response = await request(ackUrl, { method: 'POST', headers: { ...this.plainHeaders, 'content-type': 'application/json' }, body, dispatcher: this.dispatcher, headersTimeout: this.config.timeout, signal });
      const answer = await response.body.text();
      if (response.statusCode >= 300) throw new OutputUnavailableError(`HEC acknowledgement query failed (HTTP ${response.statusCode}: ${answer.slice(0, 200)})`);
      if (acknowledged(answer, ackId)) return;
      if (clock.now() + waitMs > deadline) {
        throw new OutputUnavailableError(`HEC did not acknowledge indexing of batch ${ackId} within ${this.config.splunk.ack_timeout / 1000} s; sending it again`);
      }
      await clock.sleep(waitMs, signal);
    }
  }

  /** One POST; returns the items to send again (_bulk items refused for a passing reason). */
  private async post(items: string[], signal: AbortSignal | undefined): Promise<string[]> {
    const text = items.join('');
    const body = this.config.gzip ? await gzipAsync(text) : Buffer.from(text);
    const response = await request(this.url, {
      method: 'POST',
      headers: { ...this.headers, 'content-length': String(body.length) },
      body,
      dispatcher: this.dispatcher,
      headersTimeout: this.config.timeout,
      bodyTimeout: this.config.timeout,
      signal,
    }).catch((error: unknown) => {
      throw untrustedCertificate(error) ?? error;
    });
    const answer = await response.body.text();
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      if (this.config.shape === 'splunk_hec') {
        const ackId = (parseJson(answer) as { ackId?: unknown } | undefined)?.ackId;
        if (typeof ackId === 'number') await this.awaitHecAck(ackId, signal);
        return [];
      }
      if (this.config.shape !== 'elasticsearch') return [];
      const outcome = readBulkResponse(parseJson(answer));
      if (outcome.rejected) {
        throw new RejectedEventsError(`Elasticsearch refused an event (HTTP ${outcome.rejected.status}, ${outcome.rejected.reason}); fix the index mapping or pipeline, then s3pull retry`);
      }
      return outcome.retry.map((position) => items[position]!);
    }
    const excerpt = answer.slice(0, 300).replace(/\s+/g, ' ');
    if (status === 401 || status === 403) {
      throw new OutputRefusedError(`the receiver refused the credentials (HTTP ${status}${excerpt ? `: ${excerpt}` : ''}); check the output's auth`);
    }
    if (status === 413 && items.length > 1) {
      // Too large for the receiver: send it in halves, each retried on its own.
      const half = Math.ceil(items.length / 2);
      return [...(await this.post(items.slice(0, half), signal)), ...(await this.post(items.slice(half), signal))];
    }
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfter = retryAfterMs(response.headers['retry-after']);
      const message = `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`;
      throw retryAfter === undefined ? new OutputUnavailableError(message) : new RetryAfterError(message, retryAfter);
    }
    throw new OutputRefusedError(`the receiver refused the request (HTTP ${status}${excerpt ? `: ${excerpt}` : ''})${status === 413 ? '; lower max_bytes' : status === 404 ? '; check the output url' : ''}`);
  }
}

const ACK_POLL_FIRST_MS = 500;
const ACK_POLL_MAX_MS = 10_000;

/** Splunk's answer to an ack poll: `{"acks": {"7": true}}`. */
function acknowledged(answer: string, ackId: number): boolean {
  const acks = (parseJson(answer) as { acks?: Record<string, unknown> } | undefined)?.acks;
  return acks?.[String(ackId)] === true;
}

function dispatcherFor(url: URL, proxy: ProxyServerConfig | 'none', ca: string[] | undefined): Dispatcher {
  const tls = verifiedTls(ca);
  const bypass = proxy === 'none' || noProxyMatcher(proxy.no_proxy ?? (process.env.NO_PROXY ?? process.env.no_proxy ?? '').split(/[\s,]+/).filter(Boolean))(url);
  if (bypass) return new Agent({ connect: tls });
  return new ProxyAgent({
    uri: proxy.url,
    ...(proxy.username ? { token: `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}` } : {}),
    requestTls: tls,
    proxyTls: tls,
  });
}

function authorization(auth: HttpOutputConfig['auth']): Record<string, string> {
  switch (auth?.type) {
    case undefined:
      return {};
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'splunk':
      return { authorization: `Splunk ${auth.token}` };
    case 'api_key':
      return { authorization: `ApiKey ${auth.token}` };
  }
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
