/**
 * A RELP client (the Reliable Event Logging Protocol of rsyslog and syslog-ng): every message is a
 * numbered transaction that the receiver answers "200 OK" once it has taken it, so a batch is
 * known to be delivered, not just written to a socket. Frames are
 * `TXNR SP COMMAND SP DATALEN [SP DATA] LF`.
 */
import type { Duplex } from 'node:stream';
import { OutputUnavailableError } from '../util/errors.js';

/** Transactions sent before waiting for their answers (librelp's default window is 128). */
export const RELP_WINDOW = 1024;
const MAX_TXNR = 999_999_999;

interface Frame {
  txnr: number;
  command: string;
  data: Buffer;
}

/** Splits the receiver's byte stream into frames. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      // The separator after DATALEN must be there too: "1 rsp 1" may be the start of "1 rsp 12 …".
      const header = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])/.exec(this.buffer.subarray(0, 64).toString('latin1'));
      if (!header) {
        if (this.buffer.length >= 64 || /[^\d A-Za-z]/.test(this.buffer.subarray(0, 64).toString('latin1'))) throw new OutputUnavailableError('the receiver does not speak RELP (bad frame header)');
        return frames;
      }
      const length = Number(header[3]);
      if (header[4] === '\n') {
        if (length !== 0) throw new OutputUnavailableError('the receiver does not speak RELP (data missing)');
        frames.push({ txnr: Number(header[1]), command: header[2]!, data: Buffer.alloc(0) });
        this.buffer = this.buffer.subarray(header[0].length);
        continue;
      }
      const start = header[0].length;
      if (this.buffer.length < start + length + 1) return frames;
      if (this.buffer[start + length] !== 0x0a) throw new OutputUnavailableError('the receiver does not speak RELP (frame without its trailer)');
      frames.push({ txnr: Number(header[1]), command: header[2]!, data: this.buffer.subarray(start, start + length) });
      this.buffer = this.buffer.subarray(start + length + 1);
    }
  }
}

export class RelpSession {
  private nextTxnr = 1;
  private readonly waiting = new Map<number, { resolve: (data: string) => void; reject: (error: Error) => void }>();
  private readonly reader = new FrameReader();
  private failure: Error | undefined;

  constructor(private readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.reader.push(chunk)) this.receive(frame);
      } catch (error) {
        this.fail(error as Error);
        socket.destroy();
      }
    });
    socket.on('close', () => this.fail(new OutputUnavailableError('the receiver closed the RELP session')));
    socket.on('error', (error) => this.fail(error));
  }

  /** Opens the session, offering the syslog command. */
  async open(): Promise<void> {
    const answer = await this.transact('open', 'relp_version=0\nrelp_software=s3pull\ncommands=syslog');
    if (!answer.startsWith('200')) throw new OutputUnavailableError(`the receiver refused the RELP session: ${answer.split('\n')[0]}`);
    if (!/commands=[^\n]*\bsyslog\b/.test(answer)) throw new OutputUnavailableError('the RELP receiver does not take the syslog command');
  }

  /**
   * Sends messages, RELP_WINDOW at a time; resolves when the receiver acknowledged every one. On a
   * failure, `acknowledged` holds the indexes the receiver did take, so only the others go again.
   */
  async send(messages: string[], acknowledged: Set<number>, timeoutMs = 30_000): Promise<void> {
    for (let start = 0; start < messages.length; start += RELP_WINDOW) {
      // One write for the whole window: a write per message meets Nagle and delayed ACKs.
      this.socket.cork();
      const window = messages.slice(start, start + RELP_WINDOW).map((message, offset) =>
        this.transact('syslog', message).then((answer) => {
          if (!answer.startsWith('200')) throw new OutputUnavailableError(`the RELP receiver refused a message: ${answer}`);
          acknowledged.add(start + offset);
        }),
      );
      this.socket.uncork();
      // Every answer of the window is awaited, so that `acknowledged` is complete when one fails.
      const outcomes = await this.withTimeout(Promise.allSettled(window), timeoutMs);
      const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** A receiver that stops answering fails the session (and its waiting transactions). */
  private async withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new OutputUnavailableError(`the RELP receiver answered nothing for ${timeoutMs / 1000} s`);
        this.fail(error);
        this.socket.destroy();
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the session politely; the socket is closed either way. */
  async close(): Promise<void> {
    if (!this.failure) await Promise.race([this.transact('close', ''), new Promise((resolve) => setTimeout(resolve, 1000))]).catch(() => {});
    this.socket.destroy();
  }

  private transact(command: string, data: string): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const txnr = this.nextTxnr;
    this.nextTxnr = txnr >= MAX_TXNR ? 1 : txnr + 1;
    const payload = Buffer.from(data, 'utf8');
    const frame = Buffer.concat([Buffer.from(`${txnr} ${command} ${payload.length}${payload.length > 0 ? ' ' : ''}`), payload, Buffer.from('\n')]);
    return new Promise<string>((resolve, reject) => {
      this.waiting.set(txnr, { resolve, reject });
      this.socket.write(frame, (error) => {
        if (error) this.fail(error);
      });
    });
  }

  private receive(frame: Frame): void {
    if (frame.command === 'serverclose') {
      this.fail(new OutputUnavailableError('the RELP receiver closed the session (serverclose)'));
      return;
    }
    if (frame.command !== 'rsp') return;
    const waiter = this.waiting.get(frame.txnr);
    if (!waiter) return;
    this.waiting.delete(frame.txnr);
    waiter.resolve(frame.data.toString('utf8'));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}
