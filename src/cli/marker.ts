import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { findSource, loadConfigOrExplain, openStore, ExitCode, type GlobalOptions } from './context.js';
import { sourceStatus, describeMarker } from './status.js';
import { scopeOf } from '../poll/partitions.js';
import type { ResetRequest } from '../state/types.js';

export function registerMarker(program: Command): void {
  const marker = program.command('marker').description("see or move a source's marker");

  marker
    .command('show')
    .argument('<source>', 'source id')
    .description('print the marker (settled key) of each partition, the start, and any pending reset')
    .action((id: string, _options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      const source = findSource(config, id);
      const store = existsSync(config.collector.state) ? openStore(config, true) : undefined;
      try {
        const status = sourceStatus(source, store, Date.now());
        const row = store?.getSource(id);
        process.stdout.write(`source: ${id}\nscope: s3://${source.bucket}/${source.prefix}\n`);
        if (!row) {
          process.stdout.write('marker: (not polled yet; the first poll starts as `start` says)\n');
          return;
        }
        if (!status.stateMatchesConfig) process.stdout.write('note: the stored state belongs to another bucket or prefix; the next poll clears it and starts over\n');
        process.stdout.write(`since: ${row.sinceMs ? new Date(row.sinceMs).toISOString() : '(beginning)'}\n`);
        for (const partition of status.partitions) {
          process.stdout.write(`partition ${partition.prefix || '/'}: marker ${partition.settledKey || '(beginning)'}\n`);
        }
        if (status.partitions.length === 0) process.stdout.write(`marker: ${describeMarker([])}\n`);
        if (status.pendingReset) process.stdout.write(`pending reset: ${JSON.stringify(status.pendingReset)} (applied at the next poll)\n`);
      } finally {
        store?.close();
      }
    });

  marker
    .command('reset')
    .argument('<source>', 'source id')
    .description('re-pull: from the beginning, from a date (by LastModified), or after a key; applied at the next poll, also while `run` is running')
    .option('--beginning', 'pull everything under the prefix again')
    .option('--since <date>', 'pull again every object modified at or after DATE (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)')
    .option('--after <key>', 'pull again every object whose key sorts after KEY')
    .action((id: string, options: { beginning?: boolean; since?: string; after?: string }, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      const source = findSource(config, id);
      const chosen = [options.beginning, options.since, options.after].filter((value) => value !== undefined);
      if (chosen.length !== 1) {
        process.stderr.write('s3pull marker reset: give exactly one of --beginning, --since DATE, --after KEY\n');
        throw new ExitCode(2);
      }
      let request: ResetRequest;
      if (options.since !== undefined) {
        const sinceMs = Date.parse(options.since);
        if (Number.isNaN(sinceMs)) {
          process.stderr.write(`s3pull marker reset: --since <${options.since}> is not a date (use 2026-11-01 or 2026-11-01T12:00:00Z)\n`);
          throw new ExitCode(2);
        }
        request = { mode: 'since', sinceMs };
      } else if (options.after !== undefined) {
        if (!options.after.startsWith(source.prefix)) {
          process.stderr.write(`s3pull marker reset: --after <${options.after}> is not under the source's prefix ${source.prefix || '/'}\n`);
          throw new ExitCode(2);
        }
        request = { mode: 'after', key: options.after };
      } else {
        request = { mode: 'beginning' };
      }
      const store = openStore(config);
      try {
        // A source never polled gets its state now, so that the reset has something to act on.
        const since = source.start === 'beginning' ? null : source.start === 'now' ? Date.now() : source.start.since.getTime();
        store.openSource(id, scopeOf(source), since, Date.now());
        store.requestReset(id, request);
      } finally {
        store.close();
      }
      process.stdout.write(`marker reset of ${id} requested (${describe(request)}); it is applied at the next poll\n`);
    });
}

function describe(request: ResetRequest): string {
  switch (request.mode) {
    case 'beginning':
      return 'from the beginning';
    case 'since':
      return `objects modified since ${new Date(request.sinceMs).toISOString()}`;
    case 'after':
      return `keys after ${request.key}`;
  }
}
