import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { loadConfigOrExplain, loggerFor, openStore, type GlobalOptions } from './context.js';
import { Collector } from '../service/collector.js';
import { createSink } from '../sinks/index.js';
import { systemClock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run as a service: poll every enabled source on its schedule; SIGHUP reloads the config and reopens the output file, SIGTERM drains and exits')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfigOrExplain(options);
      const log = loggerFor(config, options);
      const store = openStore(config);
      const sink = createSink({ collector: config.collector, trust: config.trust, log });
      const collector = new Collector(config, {
        store,
        sink,
        log,
        clock: systemClock,
      });
      log.info('s3pull started', { sources: config.sources.filter((s) => s.enabled).length, output: sink.description, state: config.collector.state });
      collector.start();

      await new Promise<void>((resolve) => {
        const reload = async () => {
          try {
            const next = loadConfig(config.dir);
            if (JSON.stringify(next.collector) !== JSON.stringify(config.collector)) {
              log.warn('changes to s3pull.yaml (output, state, log) take effect at the next restart; sources are reloaded now');
            }
            const change = await collector.reload(next);
            await sink.reopen();
            log.info('configuration reloaded', { added: change.added.join(',') || '-', removed: change.removed.join(',') || '-', changed: change.changed.join(',') || '-' });
          } catch (error) {
            log.error('reload refused, the running configuration stays', { error: errorMessage(error) });
          }
        };
        const shutdown = async (signal: string) => {
          process.off('SIGHUP', onHup);
          log.info('stopping: polls in flight commit their delivered batches', { signal });
          await collector.stop();
          await sink.close();
          store.close();
          log.info('s3pull stopped');
          resolve();
        };
        const onHup = () => void reload();
        process.on('SIGHUP', onHup);
        process.once('SIGTERM', () => void shutdown('SIGTERM'));
        process.once('SIGINT', () => void shutdown('SIGINT'));
      });
    });
}
