import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { emit } from '../telemetry/events.js';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { verifiedTls } from '../net/trust.js';
import { readFileSync } from 'node:fs';
import type { SyslogOutputConfig } from './options.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import type { OutputRecord, Sink } from './types.js';
import { InFlight } from './in-flight.js';
import { DeliveryRetrier, untrustedCertificate } from './retry.js';
import { describeOutput, syslogPort } from './describe.js';
import { RelpSession } from './relp.js';
import { datagram, frame, syslogFormatter, type MessageFormatter } from './syslog-format.js';
import { OutputUnavailableError } from '../util/errors.js';

export interface SyslogSinkDependencies {
  clock: Clock;
  log: Logger;
  /** Extra CA certificates (certs_dir); Node's public roots stay trusted beside them. */
  ca?: string[] | undefined;
}

/**
 * Syslog over TCP, TLS, UDP or RELP. Over RELP a batch resolves when the receiver acknowledged every
 * message; over TCP and TLS when every message was handed to the connection without error. When the
 * receiver is down or the connection breaks, the whole batch is sent again on a new connection (at
 * least once), for up to retry_timeout.
 *
 * Plain syslog has no acknowledgements: bytes the kernel accepted just before the receiver died are
 * lost with it. The README says so and points to RELP and the http output where that matters.
 */
export class SyslogSink implements Sink {
  readonly description: string;
  private readonly format: MessageFormatter;
  private readonly retrier: DeliveryRetrier;
  private socket: Socket | undefined;
  private relp: RelpSession | undefined;
  private udp: UdpSocket | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly inFlight = new InFlight();
  private connecting: Promise<Socket> | undefined;
  private truncatedTotal = 0;

  constructor(
    private readonly config: SyslogOutputConfig,
    private readonly deps: SyslogSinkDependencies,
  ) {
    this.description = describeOutput(config);
    this.format = syslogFormatter(config);
    this.retrier = new DeliveryRetrier({ clock: deps.clock, log: deps.log, target: this.description, timeoutMs: config.retry_timeout });
  }

  write(records: OutputRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    // Formatted once: a retry sends the very same bytes.
    let messages = records.map(this.format);
    const send = async () => {
      if (this.config.transport === 'udp') return this.sendDatagrams(messages);
      if (this.isRelp()) {
        // What the receiver acknowledged is not sent again on the next try.
        const acknowledged = new Set<number>();
        try {
          return await this.sendRelp(messages, acknowledged);
        } finally {
          if (acknowledged.size > 0) messages = messages.filter((_, index) => !acknowledged.has(index));
        }
      }
      return this.sendStream(messages);
    };
    if (this.isRelp()) {
      // RELP numbers every message, so batches of several objects may share the session at once:
      // while one batch waits for its answers the next is already on its way.
      return this.inFlight.track(this.retrier.run(send, signal));
    }
    const result = this.queue.then(() => this.retrier.run(send, signal));
    this.queue = result.catch(() => {});
    return result;
  }

  private isRelp(): boolean {
    return this.config.transport === 'relp' || this.config.transport === 'relp_tls';
  }

  async probe(): Promise<{ ok: true | 'warn'; text: string }> {
    if (this.config.transport === 'udp') return { ok: 'warn', text: `${this.description}: UDP has no answer, so nothing can be checked; tcp or tls can be` };
    try {
      await this.connection();
    } catch (error) {
      throw new OutputUnavailableError(`${this.description}: ${(error as Error).message}`);
    } finally {
      this.dropConnection();
    }
    const transport = this.config.transport;
    const verified = transport === 'tls' || transport === 'relp_tls' ? ', certificate verified' : '';
    return { ok: true, text: `${this.description}: connected${verified}${transport.startsWith('relp') ? ', RELP session opened' : ''}` };
  }

  async reopen(): Promise<void> {}

  async close(): Promise<void> {
    await this.queue;
    await this.inFlight.drain();
    await this.relp?.close();
    this.dropConnection();
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }

  private port(): number {
    return syslogPort(this.config);
  }

  private async sendRelp(messages: string[], acknowledged: Set<number>): Promise<void> {
    await this.connection();
    const session = this.relp!;
    await session.send(messages, acknowledged, this.config.send_timeout).catch((error: unknown) => {
      // Only the session that failed: another batch may already have opened a new one.
      if (this.relp === session) this.dropConnection();
      throw error;
    });
  }

  private async sendStream(messages: string[]): Promise<void> {
    const socket = await this.connection();
    const bytes = Buffer.concat(messages.map((message) => frame(message, this.config.framing)));
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new OutputUnavailableError('the receiver closed the connection'));
      // A receiver that stops reading would hold the write (and the poll) for ever.
      const timer = setTimeout(() => reject(new OutputUnavailableError(`the receiver took nothing for ${this.config.send_timeout / 1000} s`)), this.config.send_timeout);
      socket.once('close', onClose);
      socket.write(bytes, (error) => {
        clearTimeout(timer);
        socket.off('close', onClose);
        if (error) reject(error);
        else resolve();
      });
    }).catch((error: unknown) => {
      this.dropConnection();
      throw error;
    });
  }

  private async sendDatagrams(messages: string[]): Promise<void> {
    const udp = await this.udpSocket();
    let truncated = 0;
    for (const message of messages) {
      const packet = datagram(message, this.config.udp_max_bytes);
      if (packet.truncated) truncated += 1;
      await new Promise<void>((resolve, reject) => udp.send(packet.bytes, (error) => (error ? reject(error) : resolve()))).catch((error: unknown) => {
        // A connected UDP socket learns of "port unreachable" on a later send: start afresh.
        this.udp = undefined;
        udp.close();
        throw error;
      });
    }
    if (truncated > 0) {
      this.truncatedTotal += truncated;
      emit(this.deps.log, 'syslog_udp_cut', {
        cut: truncated,
        cut_total: this.truncatedTotal,
        udp_max_bytes: this.config.udp_max_bytes,
      });
    }
  }

  private async udpSocket(): Promise<UdpSocket> {
    if (this.udp) return this.udp;
    const udp = createSocket(this.config.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.connect(this.port(), this.config.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', () => {
      if (this.udp === udp) this.udp = undefined;
    });
    this.udp = udp;
    return udp;
  }

  /** The open connection, or a new one; batches sent at once (RELP) share one attempt to connect. */
  private connection(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed && this.socket.writable && (!this.isRelp() || this.relp)) return Promise.resolve(this.socket);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Socket> {
    this.dropConnection();
    const { host, connect_timeout: timeoutMs, transport } = this.config;
    const port = this.port();
    const secure = transport === 'tls' || transport === 'relp_tls';
    const socket = secure
      ? connectTls({
          host,
          port,
          servername: this.config.tls?.server_name ?? (/^[\d.:]+$/.test(host) ? undefined : host),
          ...verifiedTls(this.deps.ca),
          cert: this.config.tls?.cert ? readFileSync(this.config.tls.cert) : undefined,
          key: this.config.tls?.key ? readFileSync(this.config.tls.key) : undefined,
        })
      : connectTcp({ host, port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new OutputUnavailableError(`no connection within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onError = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject((secure && untrustedCertificate(error)) || error);
      };
      socket.once('error', onError);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve();
      });
    });
    socket.setKeepAlive(true, 60_000);
    // Batches are written whole; small RELP frames and acknowledgements must not wait for Nagle.
    socket.setNoDelay(true);
    // Errors after connecting surface on the next write; this keeps them from being unhandled.
    socket.on('error', (error) => emit(this.deps.log, 'syslog_connection_error', { error: error.message }));
    socket.on('end', () => socket.destroy());
    this.socket = socket;
    if (transport === 'relp' || transport === 'relp_tls') {
      const session = new RelpSession(socket);
      try {
        await session.open();
      } catch (error) {
        this.dropConnection();
        // rsyslog's imrelp over TLS asks for a client certificate and drops clients without one.
        const hint = transport === 'relp_tls' && !this.config.tls?.cert ? '; RELP over TLS receivers usually require a client certificate: set tls.cert and tls.key' : '';
        throw new OutputUnavailableError(`${(error as Error).message}${hint}`, { cause: error });
      }
      this.relp = session;
    } else {
      // A syslog receiver sends nothing back; reading keeps a half-closed connection from lingering.
      socket.on('data', () => {});
    }
    return socket;
  }

  private dropConnection(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.relp = undefined;
  }
}
