/**
 * CloudTrail's public keys, from `cloudtrail:ListPublicKeys` with the source's credentials and
 * proxy: the keys that were valid over a time span, by fingerprint, to verify digest signatures.
 * The only place that imports the CloudTrail client.
 */
import { CloudTrailClient, ListPublicKeysCommand } from '@aws-sdk/client-cloudtrail';
import type { KeyObject } from 'node:crypto';
import { credentialsFor } from './credentials.js';
import { httpHandlerFor, type AwsClientOptions } from './http-handler.js';
import { publicKeyFromDer } from '../digest/signature.js';

/** The public keys valid at some time between `startMs` and `endMs`, by fingerprint. */
export async function listPublicKeys(options: AwsClientOptions, startMs: number, endMs: number, signal: AbortSignal): Promise<Map<string, KeyObject[]>> {
  const target = new URL(options.endpoint ?? `https://cloudtrail.${options.region}.amazonaws.com`);
  const http = httpHandlerFor(options.proxy, target, options.ca, options.requestTimeoutMs);
  const sts = httpHandlerFor(options.proxy, new URL(options.auth.type === 'assume_role' && options.auth.sts_endpoint ? options.auth.sts_endpoint : `https://sts.${options.region}.amazonaws.com`), options.ca, options.requestTimeoutMs);
  const client = new CloudTrailClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    credentials: credentialsFor(options.auth, options.region, sts.handler, options.sourceId),
    requestHandler: http.handler,
    maxAttempts: 5,
    retryMode: 'standard',
  });
  const keys = new Map<string, KeyObject[]>();
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListPublicKeysCommand({ StartTime: new Date(startMs), EndTime: new Date(endMs), ...(nextToken ? { NextToken: nextToken } : {}) }), { abortSignal: signal });
      for (const key of page.PublicKeyList ?? []) {
        if (!key.Value || !key.Fingerprint) continue;
        const fingerprint = key.Fingerprint.toLowerCase();
        const known = keys.get(fingerprint);
        const publicKey = publicKeyFromDer(key.Value);
        if (known) known.push(publicKey);
        else keys.set(fingerprint, [publicKey]);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } finally {
    client.destroy();
    http.agents.destroy();
    sts.agents.destroy();
  }
  return keys;
}
