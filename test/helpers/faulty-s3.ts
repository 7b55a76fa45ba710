/**
 * A fault-injecting front for moto: answers some requests with S3's throttling and server
 * errors, drops connections, trickles bodies or stops answering (before the headers, or in the
 * middle of the body, the connection kept open), and passes the rest through.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault = 'slowdown' | 'internal' | 'reset' | 'reset-mid-body' | 'slow-body' | 'stall' | 'stall-mid-body';

export interface FaultyS3 {
  url: string;
  port: number;
  /** Faults to inject, consumed one per matching request, in order. */
  queue: Fault[];
  /** Which requests faults apply to. */
  applies: (method: string, path: string) => boolean;
  injected: Fault[];
  /** The SDK's attempt header (`attempt=2; max=5`) of each request faults apply to, in order. */
  attempts: string[];
  close(): Promise<void>;
}

export async function startFaultyS3(target: string, port = 0): Promise<FaultyS3> {
  const to = new URL(target);
  const state: FaultyS3 = {
    url: '',
    port: 0,
    queue: [],
    applies: () => true,
    injected: [],
    attempts: [],
    close: async () => {},
  };
  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer, onResponse?: (response: IncomingMessage) => void) => {
    const upstream = request({ host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: to.host } }, (response) => {
      if (onResponse) onResponse(response);
      else {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      }
    });
    upstream.on('error', () => outgoing.destroy());
    upstream.end(body);
  };
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const applies = state.applies(incoming.method ?? '', incoming.url ?? '');
      if (applies) state.attempts.push(String(incoming.headers['amz-sdk-request'] ?? ''));
      const fault = applies ? state.queue.shift() : undefined;
      if (fault) state.injected.push(fault);
      switch (fault) {
        case 'slowdown':
          outgoing.writeHead(503, { 'content-type': 'application/xml' });
          outgoing.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
          return;
        case 'internal':
          outgoing.writeHead(500, { 'content-type': 'application/xml' });
          outgoing.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
          return;
        case 'reset':
          incoming.socket.destroy();
          return;
        case 'reset-mid-body':
          forward(incoming, outgoing, body, (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.once('data', (chunk: Buffer) => {
              outgoing.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))));
              response.destroy();
              outgoing.socket?.destroy();
            });
          });
          return;
        case 'stall':
          // The request is read and never answered; the connection stays open until the client gives up.
          return;
        case 'stall-mid-body':
          forward(incoming, outgoing, body, (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.once('data', (chunk: Buffer) => {
              outgoing.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))));
              // Nothing more is sent, and the connection is not closed: a server that went silent.
              response.destroy();
            });
          });
          return;
        case 'slow-body':
          forward(incoming, outgoing, body, (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            // Trickle the body in small pieces, each on a later turn of the event loop.
            response.on('data', (chunk: Buffer) => {
              response.pause();
              let offset = 0;
              const next = () => {
                if (offset >= chunk.length) {
                  response.resume();
                  return;
                }
                outgoing.write(chunk.subarray(offset, offset + 512));
                offset += 512;
                setImmediate(next);
              };
              next();
            });
            response.on('end', () => outgoing.end());
          });
          return;
        default:
          forward(incoming, outgoing, body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  state.port = typeof address === 'object' && address ? address.port : 0;
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
