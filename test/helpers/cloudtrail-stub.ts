/**
 * moto has no `cloudtrail:ListPublicKeys`: a small server on loopback that answers it as AWS
 * does (JSON 1.1 protocol), with the keys a test gives, and records what it was asked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubKey {
  der: Buffer;
  fingerprint: string;
}

export interface CloudTrailStub {
  url: string;
  requests: { target: string; authorization: string; body: Record<string, unknown> }[];
  /** Answer with this error instead (AWS's JSON error shape). */
  failWith?: { status: number; type: string; message: string } | undefined;
  close(): Promise<void>;
}

export async function startCloudTrailStub(keys: StubKey[]): Promise<CloudTrailStub> {
  const stub: CloudTrailStub = { url: '', requests: [], close: () => new Promise((resolve) => server.close(() => resolve())) };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      stub.requests.push({ target, authorization: String(request.headers['authorization'] ?? ''), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      if (stub.failWith) {
        response.writeHead(stub.failWith.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': stub.failWith.type });
        response.end(JSON.stringify({ __type: stub.failWith.type, message: stub.failWith.message }));
        return;
      }
      if (!target.endsWith('.ListPublicKeys')) {
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: 'UnknownOperationException' }));
        return;
      }
      const now = Date.now() / 1000;
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ PublicKeyList: keys.map((key) => ({ Value: key.der.toString('base64'), ValidityStartTime: now - 90 * 86400, ValidityEndTime: now + 90 * 86400, Fingerprint: key.fingerprint })) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
