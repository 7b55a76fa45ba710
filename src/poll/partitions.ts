import type { SourceConfig } from '../config/schema.js';

/**
 * The partitions of a source: prefixes inside which keys sort by time, each with its own marker.
 * Today the configured prefix is one partition (JSA's one-region-per-source rule); discovery of
 * accounts and regions under a wider prefix replaces this function without touching the store.
 */
export function partitionsOf(source: Pick<SourceConfig, 'prefix'>): string[] {
  return [source.prefix];
}

/** The scope of a source's state: when it changes, the state is cleared (JSA's prefix rule). */
export function scopeOf(source: Pick<SourceConfig, 'endpoint' | 'bucket' | 'prefix'>): string {
  return JSON.stringify({ endpoint: source.endpoint ?? 'aws', bucket: source.bucket, prefix: source.prefix });
}
