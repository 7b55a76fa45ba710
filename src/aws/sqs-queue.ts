/**
 * The only importer of the SQS client: one queue behind the small interfaces the queue runner
 * needs (receive, delete, change visibility, attributes), with SQS's errors made the project's.
 */
import { countingPlugin } from './request-counts.js';
import {
  SQSClient,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { httpHandlerFor, type AwsClientOptions } from './http-handler.js';
import { credentialsFor } from './credentials.js';
import { CredentialsError, QueueAccessError, QueueTransientError, ReceiptInvalidError, S3PullError, isAbortError } from '../util/errors.js';

export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** When SQS got the message (SentTimestamp), ms. */
  sentMs: number;
  /** How many times it has been received, this time included. */
  receiveCount: number;
}

export interface QueueAttributes {
  visibilityTimeoutS: number;
  messages: number;
  messagesInFlight: number;
  messagesDelayed: number;
  /** The redrive policy's dead-letter queue and receive count, when set. */
  redrive?: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
  retentionS: number;
}

export interface QueueReceiver {
  receive(max: number, waitS: number, visibilityS: number, signal: AbortSignal): Promise<QueueMessage[]>;
}

export interface QueueDeleter {
  /** Deletes up to ten messages in one request; returns the receipt handles SQS refused, with its reason. */
  deleteBatch(receiptHandles: string[]): Promise<Map<string, string>>;
}

export interface VisibilityChanger {
  changeVisibility(receiptHandle: string, seconds: number, signal?: AbortSignal): Promise<void>;
}

export interface SqsQueue extends QueueReceiver, QueueDeleter, VisibilityChanger {
  readonly url: string;
  attributes(signal: AbortSignal): Promise<QueueAttributes>;
  /** Sends a body to another queue (the configured dead-letter queue). */
  send(queueUrl: string, body: string, signal?: AbortSignal): Promise<void>;
  destroy(): void;
}

export interface SqsQueueOptions extends AwsClientOptions {
  url: string;
}

/** `https://sqs.us-east-1.amazonaws.com/…` or `https://us-east-1.queue.amazonaws.com/…` name their region. */
export function regionOfQueueUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return /^sqs[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1] ?? /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
}

export function createSqsQueue(options: SqsQueueOptions): SqsQueue {
  const target = new URL(options.endpoint ?? `https://sqs.${options.region}.amazonaws.com`);
  // A long poll holds the request for up to 20 s: the timeout is on top of that.
  const { agents, handler: requestHandler } = httpHandlerFor(options.proxy, target, options.ca, options.requestTimeoutMs + 20_000);
  const client = new SQSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 3,
    retryMode: 'standard',
    credentials: credentialsFor(options.auth, options.region, requestHandler, options.sourceId),
    requestHandler,
  });
  if (options.sourceId !== undefined) client.middlewareStack.use(countingPlugin(options.sourceId));
  const queue = options.url;
  const fail = (error: unknown, action: string) => classifySqsError(error, action, queue);

  return {
    url: queue,
    async receive(max, waitS, visibilityS, signal) {
      try {
        const answer = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queue,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: waitS,
            VisibilityTimeout: visibilityS,
            MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        return (answer.Messages ?? []).map((message) => ({
          messageId: message.MessageId ?? '',
          receiptHandle: message.ReceiptHandle ?? '',
          body: message.Body ?? '',
          sentMs: Number(message.Attributes?.SentTimestamp ?? Date.now()),
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
        }));
      } catch (error) {
        throw fail(error, 'receive from');
      }
    },
    async deleteBatch(receiptHandles) {
      try {
        const answer = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queue, Entries: receiptHandles.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })) }));
        return new Map((answer.Failed ?? []).map((failure) => [receiptHandles[Number(failure.Id)] ?? '', `${failure.Code ?? 'error'}: ${failure.Message ?? ''}`]));
      } catch (error) {
        throw fail(error, 'delete messages of');
      }
    },
    async changeVisibility(receiptHandle, seconds, signal) {
      try {
        await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }), signal ? { abortSignal: signal } : {});
      } catch (error) {
        throw fail(error, 'change the visibility of a message of');
      }
    },
    async attributes(signal) {
      try {
        const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['All'] }), { abortSignal: signal });
        const a = answer.Attributes ?? {};
        let redrive: QueueAttributes['redrive'];
        if (a.RedrivePolicy) {
          try {
            const policy = JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
            redrive = { deadLetterTargetArn: policy.deadLetterTargetArn ?? '', maxReceiveCount: Number(policy.maxReceiveCount ?? 0) };
          } catch {
            redrive = undefined;
          }
        }
        return {
          visibilityTimeoutS: Number(a.VisibilityTimeout ?? 30),
          messages: Number(a.ApproximateNumberOfMessages ?? 0),
          messagesInFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
          messagesDelayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
          retentionS: Number(a.MessageRetentionPeriod ?? 345_600),
          redrive,
        };
      } catch (error) {
        throw fail(error, 'read the attributes of');
      }
    },
    async send(queueUrl, body, signal) {
      try {
        await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }), signal ? { abortSignal: signal } : {});
      } catch (error) {
        throw classifySqsError(error, 'send to', queueUrl);
      }
    },
    destroy() {
      client.destroy();
      agents.destroy();
    },
  };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'EPIPE', 'TimeoutError']);

export function classifySqsError(error: unknown, action: string, queue: string): unknown {
  if (isAbortError(error) || error instanceof S3PullError) return error instanceof CredentialsError && error.retryable ? new QueueTransientError(error.message, { cause: error, context: { queue } }) : error;
  const e = (error ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;
  const context = { queue };
  if (name === 'ReceiptHandleIsInvalid' || name === 'MessageNotInflight' || (name === 'InvalidParameterValue' && /receipt handle/i.test(e.message ?? ''))) {
    return new ReceiptInvalidError(`${action} queue ${queue}: the message is no longer held by this consumer (${name}); its visibility ran out and it may go to another consumer`, { cause: error, context });
  }
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue' || name === 'NonExistentQueue') {
    return new QueueAccessError(`${action} queue ${queue}: the queue does not exist (check queue_url and the region)`, { cause: error, context });
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || status === 403) {
    return new QueueAccessError(`${action} queue ${queue}: access denied; the credentials need sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue (${detail})`, { cause: error, context });
  }
  if (name === 'InvalidClientTokenId' || name === 'SignatureDoesNotMatch' || name === 'UnrecognizedClientException' || name === 'ExpiredToken') {
    return new QueueAccessError(`${action} queue ${queue}: the credentials were refused (${name}); check the queue's auth`, { cause: error, context });
  }
  if ((status !== undefined && status >= 500) || NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(name) || name === 'ThrottlingException' || name === 'RequestThrottled') {
    return new QueueTransientError(`${action} queue ${queue}: ${detail}`, { cause: error, context });
  }
  return new QueueAccessError(`${action} queue ${queue}: ${detail}`, { cause: error, context });
}
