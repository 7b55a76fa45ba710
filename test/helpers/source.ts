import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sourceSchema } from '../../src/config/schema.js';
import type { LoadedSource } from '../../src/config/load.js';
import { motoEndpoint } from './moto.js';

/** A source as the config loader would produce it, pointed at moto, with overrides. */
export function testSource(overrides: Record<string, unknown> = {}): LoadedSource {
  const parsed = sourceSchema.parse({
    id: 'trail',
    bucket: 'trail-bucket',
    prefix: 'AWSLogs/111122223333/CloudTrail/us-east-1/',
    region: 'us-east-1',
    endpoint: motoEndpoint(),
    path_style: true,
    auth: { type: 'access_key', access_key_id: 'testing', secret_access_key: 'testing' },
    format: 'cloudtrail',
    eps_throttle: 0,
    ...overrides,
  });
  return { ...parsed, file: 'test', proxy: parsed.proxy ?? 'none' };
}

export function tempDir(prefix = 's3pull-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
