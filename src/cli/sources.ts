import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfigOrExplain, openStore, type GlobalOptions } from './context.js';
import { sourceStatus, describeMarker, ago, humanSeconds } from './status.js';
import { table } from './summary.js';

export function registerSources(program: Command): void {
  program
    .command('sources')
    .description('status of every source: marker, last and next poll, objects, events, failures, lag')
    .option('--json', 'print JSON instead of a table')
    .action((_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { json?: boolean }>();
      const config = loadConfigOrExplain(options);
      const store = existsSync(config.collector.state) ? openStore(config, true) : undefined;
      const now = Date.now();
      try {
        const statuses = config.sources.map((source) => sourceStatus(source, store, now));
        if (options.json) {
          process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
          return;
        }
        const rows = statuses.map((s) => [
          s.id + (s.enabled ? '' : ' (disabled)'),
          s.stateMatchesConfig ? describeMarker(s.partitions) : '(prefix changed: starts over)',
          s.lastPollStatus ? `${ago(s.lastPollEnd ?? s.lastPollStart, now)} ${s.lastPollStatus}` : 'never',
          s.nextPoll ? ago(s.nextPoll, now) : '-',
          String(s.objectsDone),
          String(s.events),
          String(s.objectsFailed),
          s.lagSeconds === null ? '-' : humanSeconds(s.lagSeconds),
        ]);
        process.stdout.write(table(['SOURCE', 'MARKER', 'LAST POLL', 'NEXT POLL', 'OBJECTS', 'EVENTS', 'FAILED', 'LAG'], rows));
        for (const s of statuses) {
          if (s.partitions.length > 1 && s.stateMatchesConfig) {
            for (const partition of s.partitions) {
              const lag = partition.newestDoneModifiedMs ? humanSeconds(Math.round((now - partition.newestDoneModifiedMs) / 1000)) : '-';
              process.stdout.write(`  ${s.id}: ${partition.prefix || '/'}  marker ${partition.settledKey || '(beginning)'}  lag ${lag}\n`);
            }
          }
          if (s.lastPollError) process.stdout.write(`  ${s.id}: last error: ${s.lastPollError}\n`);
          if (s.pendingReset) process.stdout.write(`  ${s.id}: marker reset pending (${JSON.stringify(s.pendingReset)}), applied at the next poll\n`);
        }
      } finally {
        store?.close();
      }
    });
}
