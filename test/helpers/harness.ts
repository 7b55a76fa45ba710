import path from 'node:path';
import { openSqliteStore } from '../../src/state/sqlite-store.js';
import type { Store } from '../../src/state/types.js';
import { createS3Bucket, s3BucketOptionsFor } from '../../src/aws/s3-bucket.js';
import { pollSource, type PollResult } from '../../src/poll/poll-source.js';
import type { LoadedConfig, LoadedSource } from '../../src/config/load.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import type { Sink } from '../../src/sinks/types.js';
import type { Clock } from '../../src/util/clock.js';
import { systemClock } from '../../src/util/clock.js';
import { MemorySink } from './memory-sink.js';
import { tempDir } from './source.js';
import { resetMoto } from './moto.js';
import { createBucket } from './s3.js';

/** A clock whose "now" is the real time shifted by `offsetMs`; sleeps pass instantly. */
export class ShiftedClock implements Clock {
  slept = 0;
  constructor(public offsetMs = 0) {}
  now(): number {
    return Date.now() + this.offsetMs + this.slept;
  }
  async sleep(ms: number): Promise<void> {
    this.slept += ms;
  }
}

export interface Harness {
  store: Store;
  sink: MemorySink;
  stateFile: string;
  poll(source: LoadedSource, clock?: Clock, signal?: AbortSignal): Promise<PollResult>;
  /** One poll into another output (syslog, http), which is closed afterwards. */
  pollInto(source: LoadedSource, sink: Sink, options?: { clock?: Clock; log?: Logger }): Promise<PollResult>;
  reopen(): void;
  close(): void;
}

export function harness(): Harness {
  const dir = tempDir();
  const stateFile = path.join(dir, 'state.db');
  const h: Harness = {
    store: openSqliteStore(stateFile),
    sink: new MemorySink(),
    stateFile,
    async poll(source, clock = systemClock, signal = new AbortController().signal) {
      const bucket = createS3Bucket({ ...s3BucketOptionsFor(source), maxAttempts: 2 });
      try {
        return await pollSource(source, { store: h.store, sink: h.sink, bucket, clock, log: silentLogger }, signal);
      } finally {
        bucket.destroy();
      }
    },
    async pollInto(source, sink, { clock = systemClock, log = silentLogger } = {}) {
      const bucket = createS3Bucket(s3BucketOptionsFor(source));
      try {
        return await pollSource(source, { store: h.store, sink, bucket, clock, log }, new AbortController().signal);
      } finally {
        bucket.destroy();
        await sink.close();
      }
    },
    /** As a restart does: the same state file, opened anew. */
    reopen() {
      h.store.close();
      h.store = openSqliteStore(stateFile);
    },
    close() {
      h.store.close();
    },
  };
  return h;
}

export const HOUR = 3_600_000;

/** For each test: an empty moto holding only the trail bucket, and a harness on a new state file. */
export async function freshTrailBucket(): Promise<Harness> {
  await resetMoto();
  await createBucket('trail-bucket');
  return harness();
}

/** A loaded configuration of one source and a state file, for a Collector in a test (stdout output, no parse threads). */
export function collectorConfig(source: LoadedSource, state: string): LoadedConfig {
  return {
    dir: tempDir(),
    collector: { state, certs_dir: 'certs', output: { type: 'stdout' }, outputs: {}, shutdown_timeout: 25_000, parse_threads: 0, log: { level: 'info', format: 'text' } },
    sources: [source],
    warnings: [],
    trust: { ca: undefined } as unknown as LoadedConfig['trust'],
  };
}
