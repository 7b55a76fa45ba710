/** Builds the benchmark's CloudTrail objects from the real records in test/fixtures. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { root } from './paths.js';


export interface BenchObject {
  key: string;
  gzipped: Buffer;
  uncompressedBytes: number;
  records: number;
}

/**
 * Real CloudTrail records (Stratus Red Team's attack simulations): ~1.3 KB each, and varied
 * enough that documents made of them compress ~6:1 with gzip, as real CloudTrail does.
 */
export function loadSamples(): Record<string, unknown>[] {
  const dir = path.join(root, 'test', 'fixtures', 'cloudtrail', 'stratus-red-team');
  return readdirSync(dir)
    .sort()
    .flatMap((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>[]);
}

export function buildObjects(totalUncompressedBytes: number, recordsPerObject: number): BenchObject[] {
  const samples = loadSamples();
  const objects: BenchObject[] = [];
  let total = 0;
  let serial = 0;
  while (total < totalUncompressedBytes) {
    const records = Array.from({ length: recordsPerObject }, (_, index) => {
      serial += 1;
      return { ...samples[(serial + index) % samples.length], eventID: `bench-${serial}` };
    });
    const text = JSON.stringify({ Records: records });
    const minute = objects.length;
    const time = `20261123T${String(Math.floor(minute / 60) % 24).padStart(2, '0')}${String(minute % 60).padStart(2, '0')}Z`;
    objects.push({
      key: `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/23/111122223333_CloudTrail_us-east-1_${time}_${String(objects.length).padStart(16, '0')}.json.gz`,
      gzipped: gzipSync(text),
      uncompressedBytes: Buffer.byteLength(text),
      records: recordsPerObject,
    });
    total += Buffer.byteLength(text);
  }
  return objects;
}
