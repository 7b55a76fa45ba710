import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { findSource, loadConfigOrExplain, openStore, ExitCode, type GlobalOptions } from './context.js';
import { table } from './summary.js';

export function registerFailed(program: Command): void {
  program
    .command('failed')
    .argument('<source>', 'source id')
    .description('list the quarantined objects of a source: key, attempts, last error')
    .option('--json', 'print JSON instead of a table')
    .action((id: string, options: { json?: boolean }, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      findSource(config, id);
      if (!existsSync(config.collector.state)) {
        process.stdout.write(options.json ? '[]\n' : 'no quarantined objects (no poll has run yet)\n');
        return;
      }
      const store = openStore(config, true);
      try {
        const rows = store.failedObjects(id);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows.map((row) => ({ key: row.key, attempts: row.attempts, lastError: row.lastError, size: row.size, lastModified: new Date(row.lastModifiedMs).toISOString() })), null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write(`no quarantined objects for ${id}\n`);
          return;
        }
        process.stdout.write(table(['KEY', 'ATTEMPTS', 'LAST ERROR'], rows.map((row) => [row.key, String(row.attempts), row.lastError ?? ''])));
        process.stdout.write(`\n\`s3pull retry ${id}\` queues them all again, \`s3pull retry ${id} KEY\` one of them.\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('retry')
    .argument('<source>', 'source id')
    .argument('[key]', 'one quarantined key (default: all of them)')
    .description('queue quarantined objects again: they are pulled at the next poll, with a fresh count of attempts')
    .action((id: string, key: string | undefined, _options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      findSource(config, id);
      if (!existsSync(config.collector.state)) {
        process.stderr.write(`s3pull retry: ${id} has no quarantined objects (no poll has run yet)\n`);
        throw new ExitCode(1);
      }
      const store = openStore(config);
      try {
        const count = store.requeueFailed(id, key);
        if (count === 0) {
          process.stderr.write(key ? `s3pull retry: ${key} is not a quarantined object of ${id} (see \`s3pull failed ${id}\`)\n` : `s3pull retry: ${id} has no quarantined objects\n`);
          throw new ExitCode(1);
        }
        process.stdout.write(`${count} object(s) of ${id} queued again; they are pulled at the next poll\n`);
      } finally {
        store.close();
      }
    });
}
