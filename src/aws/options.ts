/** The options of the AWS role: how s3pull signs in, and how it reaches a bucket. */
import { z } from 'zod';
import { MINUTE_MS, duration } from '../util/schema-parts.js';

const accessKeyAuth = z.strictObject({
  type: z.literal('access_key'),
  access_key_id: z.string().min(1),
  secret_access_key: z.string().min(1),
  session_token: z.string().min(1).optional(),
});

const defaultChainAuth = z.strictObject({ type: z.literal('default') });

/** EC2 instance profile (IMDSv2 first) or, inside ECS, the task role. */
const instanceRoleAuth = z.strictObject({ type: z.literal('instance_role') });

const baseAuth = z.discriminatedUnion('type', [accessKeyAuth, instanceRoleAuth, defaultChainAuth]);

const assumeRoleAuth = z.strictObject({
  type: z.literal('assume_role'),
  role_arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be a role ARN such as arn:aws:iam::111122223333:role/s3pull-reader'),
  external_id: z.string().min(2).max(1224).optional(),
  session_name: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 letters, digits or +=,.@_-').default('s3pull'),
  duration: duration('duration', 15 * MINUTE_MS).default(3_600_000),
  /** STS endpoint (a VPC endpoint, or a local one in tests); the regional AWS endpoint by default. */
  sts_endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  /** The credentials that call sts:AssumeRole; the SDK chain by default. */
  base: baseAuth.default({ type: 'default' }),
});

export const authSchema = z.discriminatedUnion('type', [accessKeyAuth, instanceRoleAuth, assumeRoleAuth, defaultChainAuth]);

export type AuthConfig = z.output<typeof authSchema>;

/** How a source reaches its bucket(s). */
export const s3ConnectionShape = {
  region: z.string().regex(/^([a-z]{2}(-[a-z]+)+-\d+|auto)$/, 'must be an AWS region such as us-east-1, or auto'),
  use_fips: z.boolean().default(false),
  use_dualstack: z.boolean().default(false),
  endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  path_style: z.boolean().default(false),
  signature_version: z.enum(['v4', 'v2']).default('v4'),
  auth: authSchema.default({ type: 'default' }),
  request_timeout: duration('request_timeout', 1000).default(60_000),
};
