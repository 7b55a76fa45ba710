/**
 * A local HTTP(S) receiver standing in for Splunk HEC, Elasticsearch or a plain NDJSON endpoint:
 * it keeps every request (body un-gzipped) and answers as the test says, so that outages,
 * throttling and refusals can be played.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The body as sent, gunzipped when the request said gzip. */
  body: string;
  gzipped: boolean;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** How to answer a request; 200 with {} unless a test sets it. */
  answer: (request: ReceivedRequest, index: number) => Answer;
  close(): Promise<void>;
}

export async function startHttpReceiver(tls?: { key: string; cert: string }): Promise<HttpReceiver> {
  const receiver: HttpReceiver = {
    url: '',
    requests: [],
    answer: () => ({ status: 200, body: {} }),
    close: async () => {},
  };
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const gzipped = request.headers['content-encoding'] === 'gzip';
      const received: ReceivedRequest = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: (gzipped ? gunzipSync(raw) : raw).toString('utf8'), gzipped };
      receiver.requests.push(received);
      const answer = receiver.answer(received, receiver.requests.length - 1);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  };
  const server: Server = tls ? (createTlsServer(tls, handle) as unknown as Server) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  receiver.url = `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
