/**
 * The only place that imports the S3 client: builds a client for one source and exposes the two
 * small interfaces the poll needs, listing and getting.
 */
import { S3Client, ListObjectsV2Command, GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Readable } from 'node:stream';
import type { AuthConfig } from './options.js';
import type { ProxyServerConfig } from '../net/options.js';
import { httpHandlerFor } from './http-handler.js';
import type { ObjectInfo, S3Bucket } from './types.js';
import { countingPlugin } from './request-counts.js';
import { classifyS3Error } from './classify.js';
import { credentialsFor } from './credentials.js';
import { SigV2Signer } from './sigv2.js';
import type { IdentityProviderConfig } from '@smithy/types';

export interface S3BucketOptions {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  pathStyle: boolean;
  auth: AuthConfig;
  requestTimeoutMs: number;
  /** Attempts per request, the SDK's retry strategy (backs off, SlowDown aware). */
  maxAttempts?: number;
  /** Keys per LIST page; S3's maximum is 1000. */
  pageSize?: number;
  proxy?: ProxyServerConfig | 'none';
  /** CA certificates to verify TLS against; Node's default store when undefined. */
  ca?: string[] | undefined;
  useFips?: boolean;
  useDualstack?: boolean;
  signatureVersion?: 'v4' | 'v2';
  /** The source whose requests these are (counted per operation and day; see request-counts.ts). */
  sourceId?: string;
}

/** The client settings a source's config asks for. */
export function s3BucketOptionsFor(source: {
  id?: string;
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  path_style: boolean;
  auth: AuthConfig;
  request_timeout: number;
  proxy: ProxyServerConfig | 'none';
  use_fips?: boolean;
  use_dualstack?: boolean;
  signature_version?: 'v4' | 'v2';
}, ca?: string[]): S3BucketOptions {
  return {
    signatureVersion: source.signature_version ?? 'v4',
    useFips: source.use_fips ?? false,
    useDualstack: source.use_dualstack ?? false,
    proxy: source.proxy,
    ca,
    bucket: source.bucket,
    region: source.region,
    endpoint: source.endpoint,
    pathStyle: source.path_style,
    auth: source.auth,
    requestTimeoutMs: source.request_timeout,
    ...(source.id !== undefined ? { sourceId: source.id } : {}),
  };
}

export function createS3Bucket(options: S3BucketOptions): S3Bucket {
  const proxy = options.proxy ?? 'none';
  const handlerFor = (target: URL) => httpHandlerFor(proxy, target, options.ca, options.requestTimeoutMs);
  const home = options.region === 'auto' ? 'us-east-1' : options.region;
  const s3 = handlerFor(new URL(options.endpoint ?? `https://s3.${home}.amazonaws.com`));
  const stsHttp = handlerFor(new URL(options.auth.type === 'assume_role' && options.auth.sts_endpoint ? options.auth.sts_endpoint : `https://sts.${home}.amazonaws.com`));
  const requestHandler = s3.handler;
  // Errors name the proxy (never its credentials) so that a proxy problem is not read as S3's.
  const via = s3.agents.proxied && proxy !== 'none' ? new URL(proxy.url).host : undefined;
  // region: auto starts anywhere and follows S3's redirect to the bucket's own region.
  const autoRegion = options.region === 'auto';
  const region = autoRegion ? 'us-east-1' : options.region;
  const client = new S3Client({
    region,
    followRegionRedirects: autoRegion,
    useFipsEndpoint: options.useFips ?? false,
    useDualstackEndpoint: options.useDualstack ?? false,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.pathStyle,
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    credentials: credentialsFor(options.auth, region, stsHttp.handler, options.sourceId),
    // S3-compatible stores differ in what checksums they send; ETag and gzip's CRC guard the data.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler,
    ...(options.signatureVersion === 'v2'
      ? {
          httpAuthSchemes: [
            {
              schemeId: 'aws.auth#sigv4',
              identityProvider: (config: IdentityProviderConfig) => config.getIdentityProvider('aws.auth#sigv4'),
              signer: new SigV2Signer({ pathStyle: options.pathStyle, bucket: options.bucket }),
            },
          ],
        }
      : {}),
  });
  if (options.sourceId !== undefined) client.middlewareStack.use(countingPlugin(options.sourceId));
  const pageSize = options.pageSize ?? 1000;

  return {
    bucket: options.bucket,
    async *listPages(prefix: string, startAfter: string | undefined, signal: AbortSignal): AsyncIterable<ObjectInfo[]> {
      let continuationToken: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: options.bucket,
              Prefix: prefix || undefined,
              StartAfter: continuationToken ? undefined : startAfter || undefined,
              ContinuationToken: continuationToken,
              MaxKeys: pageSize,
            }),
            { abortSignal: signal },
          );
        } catch (error) {
          throw classifyS3Error(error, 'list', { bucket: options.bucket, via, region: options.region });
        }
        const objects: ObjectInfo[] = (page.Contents ?? []).map((item) => ({
          key: item.Key ?? '',
          etag: unquote(item.ETag ?? ''),
          size: item.Size ?? 0,
          lastModified: item.LastModified ?? new Date(0),
        }));
        yield objects;
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken);
    },
    async listFolders(prefix: string, signal: AbortSignal) {
      const folders: string[] = [];
      let hasObjects = false;
      let continuationToken: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: options.bucket, Prefix: prefix || undefined, Delimiter: '/', ContinuationToken: continuationToken, MaxKeys: pageSize }),
            { abortSignal: signal },
          );
        } catch (error) {
          throw classifyS3Error(error, 'list', { bucket: options.bucket, via, region: options.region });
        }
        for (const common of page.CommonPrefixes ?? []) if (common.Prefix) folders.push(common.Prefix);
        if ((page.Contents ?? []).some((item) => item.Key !== prefix)) hasObjects = true;
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken);
      return { folders, hasObjects };
    },
    async get(key: string, signal: AbortSignal, etag?: string, versionId?: string) {
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: options.bucket, Key: key, ...(etag ? { IfMatch: `"${etag}"` } : {}), ...(versionId ? { VersionId: versionId } : {}) }),
          { abortSignal: signal },
        );
        return { body: response.Body as Readable, etag: unquote(response.ETag ?? ''), size: response.ContentLength ?? 0, metadata: response.Metadata };
      } catch (error) {
        throw classifyS3Error(error, 'get', { bucket: options.bucket, key, via, region: options.region });
      }
    },
    async whoAmI(signal: AbortSignal) {
      let identity;
      try {
        identity = await client.config.credentials();
      } catch (error) {
        throw classifyS3Error(error, 'resolve credentials for', { bucket: options.bucket, via, region: options.region });
      }
      const stsEndpoint = options.auth.type === 'assume_role' && options.auth.sts_endpoint ? options.auth.sts_endpoint : undefined;
      const sts = new STSClient({ region, credentials: identity, requestHandler: stsEndpoint || !options.endpoint ? stsHttp.handler : s3.handler, maxAttempts: 1, ...(stsEndpoint ? { endpoint: stsEndpoint } : options.endpoint ? { endpoint: options.endpoint } : {}) });
      try {
        const caller = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
        return { accessKeyId: identity.accessKeyId, arn: caller.Arn };
      } catch (error) {
        return { accessKeyId: identity.accessKeyId, stsError: (error as Error).message };
      } finally {
        sts.destroy();
      }
    },
    async bucketRegion(signal: AbortSignal) {
      try {
        const head = await client.send(new HeadBucketCommand({ Bucket: options.bucket }), { abortSignal: signal });
        return head.BucketRegion;
      } catch (error) {
        const context = { bucket: options.bucket, via, region: options.region };
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) {
          // A HEAD answer has no body, so its 403 cannot say why (refused keys, or a missing
          // permission); a one-key listing's error does, and says it as \`once\` would see it.
          try {
            await client.send(new ListObjectsV2Command({ Bucket: options.bucket, MaxKeys: 1 }), { abortSignal: signal });
          } catch (listError) {
            throw classifyS3Error(listError, 'list', context);
          }
        }
        throw classifyS3Error(error, 'head', context);
      }
    },
    clockOffsetMs() {
      return client.config.systemClockOffset ?? 0;
    },
    destroy() {
      client.destroy();
      s3.agents.destroy();
      stsHttp.agents.destroy();
    },
  };
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
