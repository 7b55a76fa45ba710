/** A loopback HTTP forwarder that records the requests it passes on, to see what a client asked. */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Forwarder {
  url: string;
  requests: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string }[];
  close(): Promise<void>;
}

/** A request handler that passes each request on to `target` and its answer back. */
export function forwardTo(target: string, onRequest?: (incoming: IncomingMessage, body: Buffer) => void) {
  const to = new URL(target);
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      onRequest?.(incoming, body);
      const upstream = request(
        { host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: to.host } },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      upstream.end(body);
    });
  };
}

export async function startForwarder(target: string): Promise<Forwarder> {
  const requests: Forwarder['requests'] = [];
  const server: Server = createServer(
    forwardTo(target, (incoming, body) => requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body: body.toString() })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
