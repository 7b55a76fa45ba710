import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { findSource, loadConfigOrExplain, loggerFor, openStore, ExitCode, type GlobalOptions } from './context.js';
import { Collector } from '../service/collector.js';
import { createSink } from '../sinks/index.js';
import { systemClock } from '../util/clock.js';
import { pollSummary } from './summary.js';
import { onShutdownSignals } from '../service/shutdown.js';
import { forceExit } from './exit.js';
import type { PollObserver } from '../poll/poll-source.js';

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
      const collector = new Collector(config, { store, sink, log, clock: systemClock });

      const signals = onShutdownSignals({
        log,
        stop: async () => {
          log.warn('interrupted: finishing the batches in flight, then stopping');
          await collector.stop();
        },
        inFlight: () => collector.inFlight(),
        exit: forceExit,
        graceMs: config.collector.shutdown_timeout,
      });

      const bar = showBar ? progressBar() : undefined;
      try {
        const results = await collector.pollNow(ids, bar?.observer ?? {});
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

function progressBar(): { observer: PollObserver; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: 'pulling [{bar}] {value}/{total} objects | {events} events', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let total = 0;
  let events = 0;
  let started = false;
  let stopped = false;
  return {
    observer: {
      onObjectsPlanned(count) {
        total += count;
        if (!started) {
          bar.start(total, 0, { events });
          started = true;
        } else bar.setTotal(total);
      },
      onObjectFinished() {
        bar.increment();
      },
      onEvents(count) {
        events += count;
        bar.update({ events });
      },
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
