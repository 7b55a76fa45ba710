import type { Command } from 'commander';
import { loadConfigOrExplain, loggerFor, openStore, type GlobalOptions } from './context.js';
import { Daemon } from '../service/daemon.js';
import { createSink } from '../sinks/index.js';
import { systemClock } from '../util/clock.js';
import { forceExit } from './exit.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run as a service: poll every prefix source on its schedule and receive from every SQS source continuously; SIGHUP reloads the sources and the output (and reopens the output file), SIGTERM drains and exits')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfigOrExplain(options);
      const log = loggerFor(config, options);
      const store = openStore(config, false, log);
      const daemon = new Daemon(config, {
        log,
        store,
        clock: systemClock,
        createSink: (next) => createSink({ collector: next.collector, trust: next.trust, log }),
        exit: forceExit,
      });
      daemon.start();
      const code = await daemon.done;
      if (code !== 0) process.exitCode = code;
    });
}
