/**
 * A real moto server on loopback, started once for the whole run (mocha root hooks) and reset
 * between tests. moto behaves like AWS where it matters: byte-ordered keys, ListObjectsV2 paging.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

let server: ChildProcess | undefined;
let endpoint: string | undefined;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A moto_server of its own on a free loopback port (with `env`, e.g. INITIAL_NO_AUTH_ACTION_COUNT). */
export async function startMotoServer(env: NodeJS.ProcessEnv = {}): Promise<{ endpoint: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Running on http://127.0.0.1:${port}`)) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (error) => {
      reject(new Error(`cannot start moto_server (${error.message}); install it with: pip install "moto[server]"`));
    });
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code} before it listened:\n${output}`)));
  });
  // Keep draining its request log so that the pipe never fills and stalls it.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function startMoto(): Promise<string> {
  if (endpoint) return endpoint;
  const started = await startMotoServer();
  server = started.child;
  endpoint = started.endpoint;
  return endpoint;
}

/** The shared moto server's process id (benchmarks count its CPU: it shares the machine's cores). */
export function motoPid(): number | undefined {
  return server?.pid;
}

export function motoEndpoint(): string {
  if (!endpoint) throw new Error('moto is not running: the root hook in test/helpers/hooks.ts starts it');
  return endpoint;
}

export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}

export async function stopMoto(): Promise<void> {
  if (!server) return;
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
  server = undefined;
  endpoint = undefined;
}
