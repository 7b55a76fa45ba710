/**
 * AWS Signature Version 2, header form, for legacy S3-compatible stores (JSA's AWSSIGNATUREV2):
 * Authorization: AWS AccessKeyId:Base64(HMAC-SHA1(secret, StringToSign)), per the S3 REST
 * authentication specification. Version 4 stays the default; AWS itself accepts v2 in few regions.
 */
import { createHmac } from 'node:crypto';
import type { AwsCredentialIdentity, HttpRequest as IHttpRequest } from '@smithy/types';

/** Query parameters that name a sub-resource and so belong to the signed resource. */
const SUB_RESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy',
  'requestPayment', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'response-content-language', 'response-content-type', 'response-expires',
]);

export interface SignableRequest {
  method: string;
  /** The path as sent, already URI-encoded; with virtual-hosted addressing, without the bucket. */
  path: string;
  query: Record<string, string | string[] | null | undefined>;
  headers: Record<string, string | string[] | undefined>;
  /** With virtual-hosted addressing the bucket is not in the path but is in the resource. */
  virtualHostBucket?: string | undefined;
}

function header(headers: SignableRequest['headers'], name: string): string {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  if (!found || found[1] === undefined) return '';
  return Array.isArray(found[1]) ? found[1].join(',') : found[1];
}

export function stringToSignV2(request: SignableRequest): string {
  const amzHeaders = new Map<string, string[]>();
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-') || value === undefined) continue;
    const values = (Array.isArray(value) ? value : [value]).map((item) => item.replace(/\s*\r?\n\s*/g, ' ').trim());
    amzHeaders.set(lower, [...(amzHeaders.get(lower) ?? []), ...values]);
  }
  const canonicalAmz = [...amzHeaders.keys()].sort().map((name) => `${name}:${amzHeaders.get(name)!.join(',')}\n`).join('');
  // With x-amz-date present, the Date position is empty: the server takes the time from x-amz-date.
  const date = amzHeaders.has('x-amz-date') ? '' : header(request.headers, 'date');
  const subResources = Object.entries(request.query)
    .filter(([name]) => SUB_RESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === null || value === undefined || value === '' ? name : `${name}=${Array.isArray(value) ? value[0] : value}`));
  const resource = `${request.virtualHostBucket ? `/${request.virtualHostBucket}` : ''}${request.path}${subResources.length > 0 ? `?${subResources.join('&')}` : ''}`;
  return [request.method, header(request.headers, 'content-md5'), header(request.headers, 'content-type'), date].join('\n') + `\n${canonicalAmz}${resource}`;
}

export function signatureV2(secretAccessKey: string, stringToSign: string): string {
  return createHmac('sha1', secretAccessKey).update(stringToSign, 'utf8').digest('base64');
}

/** An HttpSigner for the SDK: replaces SigV4 on the client of a `signature_version: v2` source. */
export class SigV2Signer {
  constructor(
    private readonly options: { pathStyle: boolean; bucket: string; now?: () => Date },
  ) {}

  async sign(httpRequest: IHttpRequest, identity: AwsCredentialIdentity): Promise<IHttpRequest> {
    const request = httpRequest;
    for (const name of Object.keys(request.headers)) {
      // SigV4 leftovers that a v2 store does not expect and that would only lengthen the signature.
      if (/^(x-amz-content-sha256|x-amz-date|authorization)$/i.test(name)) delete request.headers[name];
    }
    request.headers.date = (this.options.now?.() ?? new Date()).toUTCString();
    if (identity.sessionToken) request.headers['x-amz-security-token'] = identity.sessionToken;
    const stringToSign = stringToSignV2({
      method: request.method,
      path: request.path,
      query: request.query ?? {},
      headers: request.headers,
      virtualHostBucket: this.options.pathStyle ? undefined : this.options.bucket,
    });
    request.headers.authorization = `AWS ${identity.accessKeyId}:${signatureV2(identity.secretAccessKey, stringToSign)}`;
    return request;
  }
}
