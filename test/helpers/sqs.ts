/**
 * Test-side SQS, SNS and EventBridge on moto: queues, and the bucket notifications that make
 * moto send the very messages S3 would (S3 → SQS, S3 → SNS → SQS, S3 → EventBridge → SQS).
 */
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { motoEndpoint } from './moto.js';
import { testS3 } from './s3.js';

const common = () => ({ region: 'us-east-1', endpoint: motoEndpoint(), credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

export function testSqs(): SQSClient {
  return new SQSClient(common());
}

export async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const sqs = testSqs();
  try {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = created.QueueUrl!;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: Attributes!.QueueArn! };
  } finally {
    sqs.destroy();
  }
}

/** S3 → SQS: every object created in the bucket is announced on the queue (after an s3:TestEvent). */
export async function notifyQueue(bucket: string, queueArn: string): Promise<void> {
  const s3 = testS3();
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queueArn, Events: ['s3:ObjectCreated:*'] }] } }));
  s3.destroy();
}

/** S3 → SNS → SQS, with or without SNS raw message delivery. */
export async function notifyThroughSns(bucket: string, queueArn: string, raw: boolean): Promise<void> {
  const sns = new SNSClient(common());
  const topic = await sns.send(new CreateTopicCommand({ Name: `${bucket}-topic` }));
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn!, Protocol: 'sqs', Endpoint: queueArn, Attributes: raw ? { RawMessageDelivery: 'true' } : {} }));
  sns.destroy();
  const s3 = testS3();
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { TopicConfigurations: [{ TopicArn: topic.TopicArn!, Events: ['s3:ObjectCreated:*'] }] } }));
  s3.destroy();
}

/** S3 → EventBridge → SQS: a rule on every aws.s3 event with the queue as target. */
export async function notifyThroughEventBridge(bucket: string, queueArn: string): Promise<void> {
  const s3 = testS3();
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { EventBridgeConfiguration: {} } }));
  s3.destroy();
  const events = new EventBridgeClient(common());
  await events.send(new PutRuleCommand({ Name: `${bucket}-rule`, EventPattern: JSON.stringify({ source: ['aws.s3'] }) }));
  await events.send(new PutTargetsCommand({ Rule: `${bucket}-rule`, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  events.destroy();
}

export async function sendMessage(url: string, body: string): Promise<void> {
  const sqs = testSqs();
  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  sqs.destroy();
}

/** How many messages the queue holds, visible or in flight. */
export async function queueDepth(url: string): Promise<{ visible: number; inFlight: number }> {
  const sqs = testSqs();
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  sqs.destroy();
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

/** Takes every visible message off the queue (for looking at what is left), returning the bodies. */
export async function drain(url: string): Promise<string[]> {
  const sqs = testSqs();
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages || Messages.length === 0) break;
    for (const message of Messages) {
      bodies.push(message.Body ?? '');
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
  sqs.destroy();
  return bodies;
}
