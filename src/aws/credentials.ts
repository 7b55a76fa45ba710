/**
 * Credentials for one source, resolved by the SDK's own providers. The S3 client caches what a
 * provider returns and asks again shortly before it expires, so credentials are refreshed, not
 * resolved per request.
 */
import { countingPlugin } from './request-counts.js';
import { fromContainerMetadata, fromInstanceMetadata, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AuthConfig } from './options.js';
import { CredentialsError, S3PullError, isAbortError } from '../util/errors.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'TimeoutError']);

export { CredentialsError };

/** Names where credentials come from in every error of the provider. */
function named(provider: AwsCredentialIdentityProvider, from: string): AwsCredentialIdentityProvider {
  return async (options) => {
    try {
      return await provider(options);
    } catch (error) {
      if (isAbortError(error) || error instanceof S3PullError) throw error;
      const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const unreachable = UNREACHABLE.has(e.code ?? '') || UNREACHABLE.has(e.name ?? '');
      const status = e.$metadata?.httpStatusCode;
      const detail = `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.code && !String(e.message).includes(e.code) ? `${e.code} ` : ''}${e.message ?? String(error)}`;
      const message = unreachable
        ? `cannot get credentials: ${from} cannot be reached (${detail})`
        : e.name === 'CredentialsProviderError'
          ? `cannot get credentials: ${from} has none (${e.message ?? ''})`
          : `cannot get credentials: ${from} refused${status ? ` (HTTP ${status})` : ''}: ${detail}`;
      throw new CredentialsError(unreachable ? 'CREDENTIALS_UNREACHABLE' : 'CREDENTIALS_REFUSED', message, { cause: error, retryable: unreachable || (status !== undefined && status >= 500) });
    }
  };
}

type BaseAuth = Exclude<AuthConfig, { type: 'assume_role' }>;

/** `requestHandler` carries the source's proxy and trust store to STS as well. */
export function credentialsFor(auth: AuthConfig, region: string, requestHandler?: NodeHttpHandler, sourceId?: string): AwsCredentialIdentityProvider {
  if (auth.type === 'assume_role') {
    const sts = auth.sts_endpoint ?? `the regional STS endpoint of ${region}`;
    return named(fromTemporaryCredentials({
      masterCredentials: baseCredentials(auth.base),
      params: {
        RoleArn: auth.role_arn,
        RoleSessionName: auth.session_name,
        DurationSeconds: Math.round(auth.duration / 1000),
        ...(auth.external_id ? { ExternalId: auth.external_id } : {}),
      },
      clientConfig: { region, ...(auth.sts_endpoint ? { endpoint: auth.sts_endpoint } : {}), ...(requestHandler ? { requestHandler } : {}) },
      // AssumeRole is a request too: counted with the source's S3 and SQS requests.
      ...(sourceId !== undefined ? { clientPlugins: [countingPlugin(sourceId)] } : {}),
    }), `STS (sts:AssumeRole of ${auth.role_arn} at ${sts})`);
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
        return named(fromContainerMetadata({ timeout: 2000, maxRetries: 2 }), 'the ECS container credentials endpoint');
      }
      return named(fromInstanceMetadata({ timeout: 2000, maxRetries: 2 }), 'the EC2 instance metadata service (instance_role)');
    case 'default':
      return named(fromNodeProviderChain(), 'the default credential chain (environment, profile, instance role)');
  }
}

/** Every secret value in an auth block, for log redaction. */
export function secretsOf(auth: AuthConfig): string[] {
  if (auth.type === 'access_key') return [auth.access_key_id, auth.secret_access_key, auth.session_token ?? ''];
  if (auth.type === 'assume_role') return [...secretsOf(auth.base), auth.external_id ?? ''];
  return [];
}
