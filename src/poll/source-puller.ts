/**
 * The object path of a listing: a source's objects pulled `concurrency` at a time through the
 * shared object worker, their outcomes counted. The live poll and the backfill/replay jobs use the
 * same one, so an object is read, parsed, throttled and committed the same way whoever listed it.
 */
import { emit } from '../telemetry/events.js';
import type { ObjectGetter, ObjectRef } from '../aws/types.js';
import type { CollectedSource } from './options.js';
import type { Sink } from '../sinks/types.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { formatConfigOf, formatFor } from '../formats/index.js';
import type { Deduplicator } from '../pipeline/dedup.js';
import type { TokenBucket } from '../throttle/token-bucket.js';
import type { ParseThreads } from '../pipeline/parse-threads.js';
import { pullObject } from '../pipeline/pull-object.js';
import { ObjectWorker, type ObjectOutcome } from '../pipeline/object-worker.js';
import type { Checkpoint } from '../pipeline/checkpoint.js';

/** What the pulls of a poll or a job add up to (a PollResult is one). */
export interface PullTally {
  objectsDone: number;
  objectsFailed: number;
  objectsRetrying: number;
  events: number;
  badLines: number;
  duplicates: number;
  errors: string[];
}

export interface SourcePullerOptions {
  source: CollectedSource;
  sink: Sink;
  getter: ObjectGetter;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  throttle: TokenBucket;
  sourceNameFor: (key: string) => string;
  dedup: Deduplicator | undefined;
  tally: PullTally;
  inFlight?: Set<string> | undefined;
  parseThreads?: ParseThreads | undefined;
  /** Called after each delivered batch: the holder of the source's lease renews it here. */
  onBatch?: () => void;
}

export interface SourcePuller {
  /** Pulls objects in the order given, `concurrency` at a time; returns the keys that finished (done or quarantined). */
  pullAll(objects: ObjectRef[], checkpoint: Checkpoint): Promise<Set<string>>;
  /** Why pulling stopped (shutdown, the output or the state file failed), once it did. */
  readonly stopReason: unknown;
}

export function sourcePuller(options: SourcePullerOptions): SourcePuller {
  const { source, clock, log, signal, tally } = options;
  const format = formatFor(source);
  let stopReason: unknown;
  const worker = new ObjectWorker({
    concurrency: source.concurrency,
    clock,
    log,
    signal,
    inFlight: options.inFlight,
    pull: (object, checkpoint, pullSignal) =>
      pullObject(
        {
          sourceId: source.id,
          sourceNameFor: options.sourceNameFor,
          formatConfig: formatConfigOf(source),
          format,
          getter: options.getter,
          sink: options.sink,
          checkpoint,
          throttle: options.throttle,
          clock,
          log,
          signal: pullSignal,
          dedup: options.dedup,
          maxRecordBytes: source.max_record_bytes,
          hashObjects: source.cloudtrail?.digests === 'verify',
          parseThreads: options.parseThreads,
          onEvents: (count) => {
            options.onBatch?.();
            tally.events += count;
          },
        },
        object,
      ),
  });

  const count = (outcome: ObjectOutcome): boolean => {
    switch (outcome.status) {
      case 'done':
        tally.objectsDone += 1;
        tally.badLines += outcome.outcome.badLines;
        tally.duplicates += outcome.outcome.duplicates;
        return true;
      case 'quarantined':
        tally.objectsFailed += 1;
        if (!outcome.gone) tally.errors.push(outcome.error);
        return true;
      case 'retry_later':
        tally.objectsRetrying += 1;
        tally.errors.push(outcome.error);
        return false;
      case 'stopped':
      case 'busy':
        return false;
    }
  };

  return {
    async pullAll(objects, checkpoint) {
      const finished = new Set<string>();
      if (objects.length > 0) emit(log, 'objects_planned', { count: objects.length });
      await Promise.all(
        objects.map(async (object) => {
          const outcome = await worker.pull(object, checkpoint);
          if (count(outcome)) finished.add(object.key);
        }),
      );
      stopReason ??= worker.stopReason;
      return finished;
    },
    get stopReason() {
      return stopReason ?? worker.stopReason;
    },
  };
}
