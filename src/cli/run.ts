import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { loadConfigOrExplain, loggerFor, openStore, type GlobalOptions } from './context.js';
import { Collector } from '../service/collector.js';
import { createSink } from '../sinks/index.js';
import { systemClock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { onShutdownSignals } from './shutdown.js';
import { forceExit } from './exit.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run as a service: poll every enabled source on its schedule; SIGHUP reloads the sources and the output (and reopens the output file), SIGTERM drains and exits')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfigOrExplain(options);
      const log = loggerFor(config, options);
      const store = openStore(config, false, log);
      let sink = createSink({ collector: config.collector, trust: config.trust, log });
      let current = config;
      let stopFor: ((reason: string, code: number) => void) | undefined;
      const collector = new Collector(config, {
        store,
        sink,
        log,
        clock: systemClock,
        onPollFinished: (result) => {
          if (result.fatal) stopFor?.(result.fatal, 3);
        },
      });
      log.info('s3pull started', { sources: config.sources.filter((s) => s.enabled).length, output: sink.description, state: config.collector.state });
      collector.start();

      await new Promise<void>((resolve) => {
        const reload = async () => {
          try {
            const next = loadConfig(config.dir);
            if (restartOnlyChanged(current, next)) {
              log.warn('changes to state or log in s3pull.yaml take effect at the next restart; sources and output are reloaded now');
            }
            const change = await collector.reload(next);
            if (outputChanged(current, next)) {
              const replacement = createSink({ collector: next.collector, trust: next.trust, log });
              const previous = await collector.replaceSink(replacement);
              await previous.close();
              sink = replacement;
              log.info('output changed', { was: previous.description, now: replacement.description });
            } else {
              await sink.reopen();
            }
            current = next;
            log.info('configuration reloaded', { added: change.added.join(',') || '-', removed: change.removed.join(',') || '-', changed: change.changed.join(',') || '-' });
          } catch (error) {
            log.error('reload refused, the running configuration stays', { error: errorMessage(error) });
          }
        };
        let stopped: Promise<void> | undefined;
        const shutdown = (reason: string, exitCode = 0): Promise<void> => {
          stopped ??= (async () => {
            process.off('SIGHUP', onHup);
            log.info('stopping: polls in flight commit their delivered batches', { reason });
            await collector.stop();
            await sink.close().catch((error: unknown) => log.warn('output did not close cleanly', { error: errorMessage(error) }));
            store.close();
            log.info('s3pull stopped');
            if (exitCode !== 0) process.exitCode = exitCode;
            signals.dispose();
            resolve();
          })();
          return stopped;
        };
        stopFor = (reason, code) => {
          log.error('s3pull stops', { reason });
          void shutdown(reason, code);
        };
        const onHup = () => void reload();
        process.on('SIGHUP', onHup);
        const signals = onShutdownSignals({ log, stop: (signal) => shutdown(signal), inFlight: () => collector.inFlight(), exit: forceExit, graceMs: config.collector.shutdown_timeout });
      });
    });
}

/** The output is made anew when it, the proxy it may use, or the trusted certificates changed. */
function outputChanged(before: LoadedConfig, after: LoadedConfig): boolean {
  return (
    JSON.stringify(after.collector.output) !== JSON.stringify(before.collector.output) ||
    JSON.stringify(after.collector.proxy) !== JSON.stringify(before.collector.proxy) ||
    JSON.stringify(after.trust.ca) !== JSON.stringify(before.trust.ca)
  );
}

/** State file and log settings are opened once, at start. */
function restartOnlyChanged(before: LoadedConfig, after: LoadedConfig): boolean {
  return before.collector.state !== after.collector.state || JSON.stringify(before.collector.log) !== JSON.stringify(after.collector.log);
}
