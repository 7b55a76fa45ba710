/**
 * Turns what the SDK throws into the project's typed errors, so that the poll decides by class:
 * transient (retry later, never the object's fault), access (operator must act), or gone.
 */
import { ObjectChangedError, ObjectGoneError, S3AccessError, S3PullError, TransientS3Error, isAbortError, type ErrorContext } from '../util/errors.js';

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  Region?: string;
  Endpoint?: string;
  address?: string;
  port?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** S3 names the bucket's real region in a header (301) or in the error body (400). */
function bucketRegionOf(e: SdkLikeError & { $response?: { headers?: Record<string, string> } }): string | undefined {
  return e.Region ?? e.$response?.headers?.['x-amz-bucket-region'];
}

function resolveVia(via: string): string {
  const url = new URL(`http://${via}`);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  return `${host}:${url.port || '80'}`;
}

/** Aborts (shutdown) pass through untouched: they are never a failure of the object or the source. */
export function classifyS3Error(error: unknown, action: string, context: ErrorContext): unknown {
  if (error instanceof S3PullError || isAbortError(error)) return error;
  const e = (error ?? {}) as SdkLikeError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? e.code ?? 'Error';
  const where = context.key ? `s3://${context.bucket}/${context.key}` : `bucket ${context.bucket}`;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}`;

  if (status === 407) {
    return new S3AccessError('PROXY_AUTH', `${action} ${where}: the proxy ${context.via ?? ''} refused the credentials (HTTP 407 Proxy Authentication Required); check proxy.username and proxy.password`, { cause: error, context });
  }
  if (context.via && NETWORK_CODES.has(e.code ?? '') && e.port !== undefined && `${e.address}:${e.port}` === resolveVia(context.via)) {
    return new TransientS3Error(`${action} ${where}: cannot reach the proxy ${context.via} (${e.code}); is it running, and is proxy.url right?`, { cause: error, context });
  }
  if (TLS_TRUST_CODES.has(e.code ?? '')) {
    return new S3AccessError('TLS_UNTRUSTED', `${action} ${where}: the server's TLS certificate is not trusted (${e.code}: ${e.message ?? ''}); if the endpoint uses a private CA, run \`s3pull certs fetch HOST:PORT\`, compare the fingerprints it prints, and restart or reload`, { cause: error, context });
  }
  if (name === 'PreconditionFailed' || status === 412) {
    // Rewritten between the listing and the read: the next listing names the new version.
    return new ObjectChangedError(`${action} ${where}: the object changed after it was listed; it is read again at the next poll`, { cause: error, context });
  }
  if (name === 'NoSuchKey') return new ObjectGoneError(`${action} ${where}: the object no longer exists`, { cause: error, context });
  if (name === 'NoSuchBucket' || (name === 'NotFound' && action === 'head')) {
    return new S3AccessError('S3_NO_SUCH_BUCKET', `${action} ${where}: the bucket does not exist (check bucket and endpoint)`, { cause: error, context });
  }
  const actualRegion = bucketRegionOf(e);
  if (name === 'PermanentRedirect' || status === 301 || (name === 'AuthorizationHeaderMalformed' && actualRegion)) {
    const said = context.region ? ` but the source says ${context.region}` : '';
    const message = actualRegion
      ? `${action}: bucket ${context.bucket} is in ${actualRegion}${said}; set region: ${actualRegion} (or region: auto)`
      : `${action}: bucket ${context.bucket} is not in ${context.region ?? 'the configured region'}; set the source's region to the bucket's (or region: auto)`;
    return new S3AccessError('S3_WRONG_REGION', message, { cause: error, context });
  }
  if (name === 'RequestTimeTooSkewed') {
    return new S3AccessError('CLOCK_SKEW', `${action} ${where}: this host's clock is too far from S3's (RequestTimeTooSkewed, more than 15 minutes); fix the time (NTP) on the collector host`, { cause: error, context });
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken' || name === 'InvalidToken') {
    return new S3AccessError('S3_BAD_CREDENTIALS', `${action} ${where}: the credentials were refused (${name}); check auth in the source`, { cause: error, context });
  }
  if (name === 'AccessDenied' || status === 403) {
    const permission = action === 'get' ? 's3:GetObject on the key (and kms:Decrypt if the object is SSE-KMS encrypted)' : 's3:ListBucket on the bucket';
    return new S3AccessError('S3_ACCESS_DENIED', `${action} ${where}: access denied; the credentials need ${permission}`, { cause: error, context });
  }
  if (name === 'CredentialsProviderError') {
    return new S3AccessError('S3_NO_CREDENTIALS', `${action} ${where}: no credentials could be found (${e.message ?? ''})`, { cause: error, context });
  }
  if (
    (status !== undefined && status >= 500) ||
    name === 'SlowDown' ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    NETWORK_CODES.has(e.code ?? '') ||
    NETWORK_CODES.has(name) ||
    e.$retryable !== undefined
  ) {
    return new TransientS3Error(`${action} ${where}: ${detail}`, { cause: error, context });
  }
  return new S3PullError('S3_ERROR', `${action} ${where}: ${detail}`, { cause: error, context, retryable: false });
}
