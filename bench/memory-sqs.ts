/**
 * For the benchmark only: a queue in memory behind SQS's JSON protocol (the calls s3pull makes:
 * ReceiveMessage, DeleteMessage(Batch), ChangeMessageVisibility, GetQueueAttributes, and
 * SendMessageBatch to fill it), so that bench:sqs can measure s3pull's own cost per message.
 * moto's ReceiveMessage takes ~240 ms per call on these machines, which caps every consumer at
 * ~40 messages/s whatever the consumer does; the tests keep using moto, which behaves like SQS.
 */
import { createServer, type Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';

interface Held {
  id: string;
  body: string;
  sentMs: number;
  receives: number;
  visibleAtMs: number;
  receipt?: string;
}

export interface MemorySqs {
  endpoint: string;
  queueUrl(name: string): string;
  close(): Promise<void>;
}

export async function startMemorySqs(): Promise<MemorySqs> {
  const queues = new Map<string, Held[]>();
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const queueOf = (url: string) => {
    const name = new URL(url).pathname.split('/').pop()!;
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = []));
    return queue;
  };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const action = String(request.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
      const input = JSON.parse(text || '{}') as Record<string, unknown>;
      const queue = queueOf(String(input.QueueUrl));
      const now = Date.now();
      let output: unknown = {};
      switch (action) {
        case 'SendMessageBatch':
          output = {
            Successful: (input.Entries as { Id: string; MessageBody: string }[]).map((entry) => {
              const id = randomUUID();
              queue.push({ id, body: entry.MessageBody, sentMs: now, receives: 0, visibleAtMs: 0 });
              return { Id: entry.Id, MessageId: id, MD5OfMessageBody: md5(entry.MessageBody) };
            }),
            Failed: [],
          };
          break;
        case 'ReceiveMessage': {
          const max = Number(input.MaxNumberOfMessages ?? 1);
          const visibilityMs = Number(input.VisibilityTimeout ?? 30) * 1000;
          const taken = queue.filter((message) => message.visibleAtMs <= now).slice(0, max);
          output = {
            Messages: taken.map((message) => {
              message.receives += 1;
              message.visibleAtMs = now + visibilityMs;
              message.receipt = randomUUID();
              return { MessageId: message.id, ReceiptHandle: message.receipt, MD5OfBody: md5(message.body), Body: message.body, Attributes: { SentTimestamp: String(message.sentMs), ApproximateReceiveCount: String(message.receives) } };
            }),
          };
          break;
        }
        case 'DeleteMessage': {
          const index = queue.findIndex((message) => message.receipt === input.ReceiptHandle);
          if (index >= 0) queue.splice(index, 1);
          break;
        }
        case 'DeleteMessageBatch': {
          const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
          for (const entry of entries) {
            const index = queue.findIndex((message) => message.receipt === entry.ReceiptHandle);
            if (index >= 0) queue.splice(index, 1);
          }
          output = { Successful: entries.map((entry) => ({ Id: entry.Id })), Failed: [] };
          break;
        }
        case 'ChangeMessageVisibility': {
          const message = queue.find((candidate) => candidate.receipt === input.ReceiptHandle);
          if (message) message.visibleAtMs = now + Number(input.VisibilityTimeout) * 1000;
          break;
        }
        case 'GetQueueAttributes':
          output = {
            Attributes: {
              VisibilityTimeout: '30',
              ApproximateNumberOfMessages: String(queue.filter((message) => message.visibleAtMs <= now).length),
              ApproximateNumberOfMessagesNotVisible: String(queue.filter((message) => message.visibleAtMs > now).length),
              ApproximateNumberOfMessagesDelayed: '0',
            },
          };
          break;
        default:
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: `not served here: ${action}` }));
          return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(output));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    queueUrl: (name) => `${endpoint}/123456789012/${name}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
