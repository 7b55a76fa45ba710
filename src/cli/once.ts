import type { Command } from 'commander';
import { emit, onEvent, type EventFields, type EventName } from '../telemetry/events.js';
import cliProgress from 'cli-progress';
import { findSource, loadConfigOrExplain, loggerFor, openStore, ExitCode, type GlobalOptions } from './context.js';
import { Collector } from '../service/collector.js';
import { createSink } from '../sinks/index.js';
import { systemClock } from '../util/clock.js';
import { pollSummary } from './summary.js';
import { onShutdownSignals } from '../service/shutdown.js';
import { forceExit } from './exit.js';

export function registerOnce(program: Command): void {
  program
    .command('once')
    .argument('[source...]', 'source ids (default: every enabled source)')
    .description('poll now, once, and print a summary; exits 1 if any object or source failed')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .action(async (ids: string[], _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { progress: boolean }>();
      const config = loadConfigOrExplain(options);
      for (const id of ids) findSource(config, id);
      const showBar = options.progress && process.stderr.isTTY;
      // Info lines would tear the progress bar apart; warnings and errors still show.
      const log = loggerFor(config, showBar && !options.logLevel ? { ...options, logLevel: 'warn' } : options);
      const store = openStore(config, false, log);
      const sink = createSink({ collector: config.collector, trust: config.trust, log });
      const collector = new Collector(config, { store, sink, log, clock: systemClock, digestsEveryPoll: true });

      const signals = onShutdownSignals({
        log,
        stop: async () => {
          emit(log, 'interrupted', {});
          await collector.stop();
        },
        inFlight: () => collector.inFlight(),
        exit: forceExit,
        graceMs: config.collector.shutdown_timeout,
      });

      const bar = showBar ? progressBar() : undefined;
      try {
        const results = await collector.pollNow(ids);
        bar?.stop();
        process.stdout.write(pollSummary(results));
        if (config.collector.output.type === 'file') process.stdout.write(`events written to ${config.collector.output.path}\n`);
        const failed = results.some((result) => result.status === 'failed' || result.status === 'busy' || result.objectsFailed > 0 || result.objectsRetrying > 0);
        if (failed) throw new ExitCode(1);
      } finally {
        bar?.stop();
        await collector.stop();
        signals.dispose();
        await sink.close();
        store.close();
      }
    });
}

function progressBar(): { stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: 'pulling [{bar}] {value}/{total} objects | {events} events', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let events = 0;
  let started = false;
  let stopped = false;
  // The bar follows the telemetry events: what it shows is what the log and the metrics say.
  const unsubscribe = onEvent((name, fields) => {
    if (name === 'objects_planned') {
      total += (fields as EventFields['objects_planned']).count;
      if (!started) {
        bar.start(total, 0, { events });
        started = true;
      } else bar.setTotal(total);
    } else if (FINISHED.has(name)) {
      bar.increment();
    } else if (name === 'output_delivered') {
      events += (fields as EventFields['output_delivered']).events;
      bar.update({ events });
    }
  });
  return {
    stop() {
      unsubscribe();
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** The events that end an object's turn in a poll (it is not tried again in this poll). */
const FINISHED = new Set<EventName>(['object_done', 'object_quarantined', 'object_gone', 'object_failed', 'object_retry_later']);
