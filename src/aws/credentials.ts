/**
 * Credentials for one source, resolved by the SDK's own providers. The S3 client caches what a
 * provider returns and asks again shortly before it expires, so credentials are refreshed, not
 * resolved per request.
 */
import { fromContainerMetadata, fromInstanceMetadata, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AuthConfig } from '../config/schema.js';

type BaseAuth = Exclude<AuthConfig, { type: 'assume_role' }>;

/** `requestHandler` carries the source's proxy and trust store to STS as well. */
export function credentialsFor(auth: AuthConfig, region: string, requestHandler?: NodeHttpHandler): AwsCredentialIdentityProvider {
  if (auth.type === 'assume_role') {
    return fromTemporaryCredentials({
      masterCredentials: baseCredentials(auth.base),
      params: {
        RoleArn: auth.role_arn,
        RoleSessionName: auth.session_name,
        DurationSeconds: Math.round(auth.duration / 1000),
        ...(auth.external_id ? { ExternalId: auth.external_id } : {}),
      },
      clientConfig: { region, ...(auth.sts_endpoint ? { endpoint: auth.sts_endpoint } : {}), ...(requestHandler ? { requestHandler } : {}) },
    });
  }
  return baseCredentials(auth);
}

function baseCredentials(auth: BaseAuth): AwsCredentialIdentityProvider {
  switch (auth.type) {
    case 'access_key': {
      const identity = {
        accessKeyId: auth.access_key_id,
        secretAccessKey: auth.secret_access_key,
        ...(auth.session_token ? { sessionToken: auth.session_token } : {}),
      };
      return async () => identity;
    }
    case 'instance_role':
      // Inside ECS the task role is offered through the container endpoint; elsewhere, IMDS.
      if (process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI || process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        return fromContainerMetadata({ timeout: 2000, maxRetries: 2 });
      }
      return fromInstanceMetadata({ timeout: 2000, maxRetries: 2 });
    case 'default':
      return fromNodeProviderChain();
  }
}

/** Every secret value in an auth block, for log redaction. */
export function secretsOf(auth: AuthConfig): string[] {
  if (auth.type === 'access_key') return [auth.access_key_id, auth.secret_access_key, auth.session_token ?? ''];
  if (auth.type === 'assume_role') return [...secretsOf(auth.base), auth.external_id ?? ''];
  return [];
}
