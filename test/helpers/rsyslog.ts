/**
 * A real rsyslogd (Debian's, installed by .ci/run) on loopback: plain TCP, TLS (gtls, under the
 * test CA), UDP, RELP and RELP over TLS inputs, writing every message it receives to a file, one line per message, with
 * the header fields it parsed. Started by the tests that need it, as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from './moto.js';
import { tempDir } from './source.js';
import type { TestCa } from './tls.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((file) => existsSync(file));

export interface ReceivedMessage {
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  timestamp: string;
  pri: number;
  msg: string;
  input: string;
}

export interface Rsyslog {
  tcpPort: number;
  tlsPort: number;
  udpPort: number;
  relpPort: number;
  relpTlsPort: number;
  /** Resolves with the messages once at least `count` have arrived (or fails after 20 s). */
  waitForMessages(count: number): Promise<ReceivedMessage[]>;
  messages(): ReceivedMessage[];
  stop(): Promise<void>;
  /** Starts it again on the same ports (after stop), as a SIEM restart would. */
  start(): Promise<void>;
}

export async function startRsyslog(ca: TestCa): Promise<Rsyslog> {
  if (!RSYSLOGD) throw new Error('rsyslogd is missing: bash scripts/test-deps.sh installs it (apt-get install rsyslog rsyslog-gnutls rsyslog-relp)');
  const dir = tempDir('s3pull-rsyslog-');
  const out = path.join(dir, 'received.log');
  const [tcpPort, tlsPort, udpPort, relpPort, relpTlsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = path.join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}" maxMessageSize="1m"
  defaultNetstreamDriverCAFile="${path.join(ca.dir, 'ca.pem')}"
  defaultNetstreamDriverCertFile="${path.join(ca.dir, 'server.pem')}"
  defaultNetstreamDriverKeyFile="${path.join(ca.dir, 'server.key')}")
module(load="imtcp" maxSessions="50")
module(load="imudp")
module(load="imrelp")
input(type="imtcp" port="${tcpPort}" address="127.0.0.1" name="tcp")
input(type="imtcp" port="${tlsPort}" address="127.0.0.1" name="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imudp" port="${udpPort}" address="127.0.0.1" name="udp")
input(type="imrelp" port="${relpPort}" address="127.0.0.1" name="relp")
input(type="imrelp" port="${relpTlsPort}" address="127.0.0.1" name="relp_tls" tls="on"
  tls.caCert="${path.join(ca.dir, 'ca.pem')}" tls.myCert="${path.join(ca.dir, 'server.pem')}" tls.myPrivKey="${path.join(ca.dir, 'server.key')}" tls.authMode="certvalid")
template(name="fields" type="list") {
  property(name="hostname") constant(value="\\t")
  property(name="app-name") constant(value="\\t")
  property(name="procid") constant(value="\\t")
  property(name="msgid") constant(value="\\t")
  property(name="timereported" dateFormat="rfc3339") constant(value="\\t")
  property(name="pri") constant(value="\\t")
  property(name="inputname") constant(value="\\t")
  property(name="msg" format="json") constant(value="\\n")
}
*.* action(type="omfile" file="${out}" template="fields" flushOnTXEnd="on" asyncWriting="off")
`,
  );
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async () => {
    stderr = '';
    child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`rsyslogd exited with ${code}:\n${stderr}`))));
    // Ready when both stream inputs accept connections.
    await Promise.race([exited, (async () => {
      for (const port of [tcpPort, tlsPort, relpPort, relpTlsPort]) await untilListening(port);
    })()]);
  };

  const messages = (): ReceivedMessage[] => {
    if (!existsSync(out)) return [];
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [hostname, appName, procId, msgId, timestamp, pri, input, msg] = line.split('\t');
        // The msg property is written JSON-escaped so that the file stays one line per message.
        return { hostname: hostname!, appName: appName!, procId: procId!, msgId: msgId!, timestamp: timestamp!, pri: Number(pri), input: input!, msg: JSON.parse(`"${msg}"`).trimStart() };
      });
  };

  await start();
  return {
    tcpPort,
    tlsPort,
    udpPort,
    relpPort,
    relpTlsPort,
    messages,
    async waitForMessages(count) {
      // Woken by rsyslog's writes to its output file, not by a clock.
      await new Promise<void>((resolve, reject) => {
        const done = () => messages().length >= count;
        if (done()) return resolve();
        const watcher = watch(dir, () => {
          if (done()) finish();
        });
        const timer = setTimeout(() => finish(new Error(`rsyslog received ${messages().length} of ${count} messages in 20 s:\n${stderr}`)), 20_000);
        const finish = (error?: Error) => {
          watcher.close();
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        // A write between the first look and the watch would be missed otherwise.
        if (done()) finish();
      });
      return messages();
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await gone;
    },
    start,
  };
}

async function untilListening(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`rsyslogd did not listen on ${port} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A RELP receiver of the test's own, for what rsyslog cannot be told to do: it acknowledges only
 * the first `ackFirst` messages of the first session and then drops the connection, as a receiver
 * that dies mid-batch would (or, with `silence`, answers nothing more, as a hung one would); later
 * sessions are acknowledged in full. It keeps what it acknowledged.
 */
export async function startFlakyRelpReceiver(ackFirst: number, failure: 'close' | 'silence' = 'close'): Promise<{ port: number; acknowledged: string[]; sessions: number; close(): Promise<void> }> {
  const { createServer } = await import('node:net');
  const state = { port: 0, acknowledged: [] as string[], sessions: 0, close: async () => {} };
  const server = createServer((socket) => {
    state.sessions += 1;
    const session = state.sessions;
    let buffer = '';
    let acked = 0;
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        const header = /^(\d+) (\w+) (\d+)[ \n]/.exec(buffer);
        if (!header) return;
        const length = Number(header[3]);
        const start = header[0].endsWith('\n') ? header[0].length - 1 : header[0].length;
        if (Buffer.byteLength(buffer) < start + length + 1) return;
        const data = Buffer.from(buffer).subarray(start, start + length).toString('utf8');
        buffer = Buffer.from(buffer).subarray(start + length + 1).toString('utf8');
        const [txnr, command] = [header[1], header[2]];
        if (command === 'open') {
          const offer = '200 OK\nrelp_version=0\nrelp_software=test\ncommands=syslog';
          socket.write(`${txnr} rsp ${Buffer.byteLength(offer)} ${offer}\n`);
        }
        else if (command === 'syslog') {
          if (session === 1 && acked >= ackFirst) {
            // The answers already written still go out; then the connection closes, or hangs.
            if (failure === 'close') socket.end();
            socket.removeAllListeners('data');
            return;
          }
          acked += 1;
          state.acknowledged.push(data);
          socket.write(`${txnr} rsp 6 200 OK\n`);
        } else if (command === 'close') socket.end(`${txnr} rsp 0\n`);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
