/**
 * The monitoring endpoint (`metrics.listen` in s3pull.yaml): /metrics (Prometheus text format),
 * /health (the process and its event loop answer) and /ready (every enabled source works, as
 * JSON with the reason when one does not). Read-only: nothing here changes the service.
 */
import { createServer, type Server } from 'node:http';
import type { SourceRow } from '../state/types.js';
import type { Metrics } from './metrics.js';
import { readinessOf, type ReadinessSource } from './readiness.js';

export interface MonitoringOptions {
  host: string;
  port: number;
  metrics: Metrics;
  sources(): ReadinessSource[];
  sourceRow(sourceId: string): SourceRow | undefined;
  nextRunMs(sourceId: string): number | null;
  now(): number;
}

export interface MonitoringServer {
  /** The address it listens on, as host:port (the port the system gave when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

export async function startMonitoring(options: MonitoringOptions): Promise<MonitoringServer> {
  const startedMs = options.now();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(`${JSON.stringify(body)}\n`);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      json(405, { error: 'only GET' });
      return;
    }
    if (path === '/metrics') {
      options.metrics.text().then(
        (text) => {
          response.writeHead(200, { 'content-type': options.metrics.contentType });
          response.end(text);
        },
        (error: unknown) => json(500, { error: (error as Error).message }),
      );
    } else if (path === '/health') {
      // Answering at all is the proof: a blocked event loop answers nothing.
      json(200, { status: 'ok', uptime_s: Math.round((options.now() - startedMs) / 1000) });
    } else if (path === '/ready') {
      const now = options.now();
      const sources = options
        .sources()
        .filter((source) => source.enabled)
        .map((source) => ({ source: source.id, ...readinessOf(source, options.sourceRow(source.id), now, options.nextRunMs(source.id)) }));
      const outputsDown = options.metrics.outputsDown();
      const output = outputsDown.length === 0 ? { ready: true, reason: 'ok' } : { ready: false, reason: `receiver unavailable: ${outputsDown.join(', ')}` };
      const ready = output.ready && sources.every((source) => source.ready);
      json(ready ? 200 : 503, { ready, sources, output });
    } else {
      json(404, { error: 'not found: /metrics, /health and /ready are served' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.port;
  return {
    address: `${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
