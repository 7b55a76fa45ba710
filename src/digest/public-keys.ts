/**
 * CloudTrail's public keys for a source: every key of its `cloudtrail.public_key_file`, or the
 * keys `cloudtrail:ListPublicKeys` gives for the span (and a day before it, for a key retired
 * since), by fingerprint.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedSource } from '../config/load.js';
import { listPublicKeys } from '../aws/cloudtrail-keys.js';
import { errorMessage } from '../util/errors.js';
import { publicKeysFromFile } from './signature.js';

export type KeysFor = (fingerprint: string) => readonly KeyObject[];

const DAY_MS = 86_400_000;

/** A key file that cannot be used, or ListPublicKeys refused: the message says which, and what to do. */
export class PublicKeysError extends Error {
  override readonly name = 'PublicKeysError';
  constructor(message: string, readonly inConfig: boolean) {
    super(message);
  }
}

/** The keys of the key file, read now; undefined where the source names none. */
export function keysFromFile(source: LoadedSource): KeysFor | undefined {
  const file = source.cloudtrail?.public_key_file;
  if (file === undefined) return undefined;
  try {
    const keys = publicKeysFromFile(readFileSync(file, 'utf8'), file);
    return () => keys;
  } catch (error) {
    throw new PublicKeysError(`cloudtrail.public_key_file: ${errorMessage(error)}`, true);
  }
}

export async function publicKeysFor(source: LoadedSource, ca: string[] | undefined, sinceMs: number, untilMs: number, signal: AbortSignal): Promise<KeysFor> {
  const fromFile = keysFromFile(source);
  if (fromFile) return fromFile;
  try {
    const keys = await listPublicKeys(
      { region: source.region, endpoint: source.cloudtrail?.endpoint, auth: source.auth, proxy: source.proxy, ca, requestTimeoutMs: source.request_timeout, sourceId: source.id },
      sinceMs - DAY_MS,
      untilMs,
      signal,
    );
    return (fingerprint) => keys.get(fingerprint.toLowerCase()) ?? [];
  } catch (error) {
    throw new PublicKeysError(`cloudtrail:ListPublicKeys failed (${errorMessage(error)}): allow it to the source's credentials, or give the keys in cloudtrail.public_key_file`, false);
  }
}
