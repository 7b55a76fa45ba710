/** The options of collection by SQS notification (`collection: { type: sqs, … }`). */
import { z } from 'zod';
import { MINUTE_MS, bucketName, duration } from '../util/schema-parts.js';
import { authSchema } from '../aws/options.js';
import type { CollectedSource } from '../poll/options.js';

const SQS_QUEUE_URL = /^https?:\/\/[^/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

export const sqsCollectionSchema = z
  .strictObject({
    type: z.literal('sqs'),
    /** The queue S3 (or SNS, or EventBridge) sends notifications to; its region comes from the URL. */
    queue_url: z.string().regex(SQS_QUEUE_URL, 'must be a queue URL such as https://sqs.us-east-1.amazonaws.com/111122223333/s3pull-trail'),
    /** The queue's region, where the URL does not name one (a VPC endpoint, a local queue); the source's region by default. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1').optional(),
    /** SQS endpoint (a VPC endpoint, or a local one in tests); AWS's own for the region by default. */
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** Credentials for the queue, when they are not the bucket's (the source's auth by default). */
    auth: authSchema.optional(),
    /** Long poll: how long one receive waits for messages (0 to 20 s). */
    wait_time: duration('wait_time', 0).default(20_000),
    max_messages: z.number().int().min(1).max(10).default(10),
    /** How long a received message stays hidden from other consumers; extended at half of it while its objects are pulled. */
    visibility_timeout: duration('visibility_timeout', 10_000).default(300_000),
    /** Messages worked on at once (their objects share the source's concurrency). */
    workers: z.number().int().min(1).max(100).default(10),
    /** Only objects of these buckets are pulled; others are deleted from the queue and counted. */
    buckets: z.array(bucketName).min(1).optional(),
    /** Also list the prefix this often, with the marker and ledger, for objects no notification announced. */
    reconcile: duration('reconcile', MINUTE_MS).optional(),
    /** Messages s3pull cannot read are moved here (and deleted); without it they stay for the queue's redrive policy. */
    dead_letter_queue_url: z.string().regex(SQS_QUEUE_URL, 'must be a queue URL').optional(),
  })
  .superRefine((collection, ctx) => {
    if (collection.wait_time > 20_000) ctx.addIssue({ code: 'custom', path: ['wait_time'], message: 'must be at most 20s (the longest SQS long poll)' });
    if (collection.visibility_timeout > 43_200_000) ctx.addIssue({ code: 'custom', path: ['visibility_timeout'], message: 'must be at most 12h (the longest SQS visibility timeout)' });
    if (collection.wait_time % 1000 !== 0) ctx.addIssue({ code: 'custom', path: ['wait_time'], message: 'must be whole seconds' });
  });

export type SqsCollectionConfig = z.output<typeof sqsCollectionSchema>;

/** What the queue runner reads of an SQS source's config. */
export type QueuedSource = CollectedSource & { collection: SqsCollectionConfig };

export function isQueued<T extends { collection: { type: string } }>(source: T): source is T & { collection: SqsCollectionConfig } {
  return source.collection.type === 'sqs';
}
