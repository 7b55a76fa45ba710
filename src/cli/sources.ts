import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadConfigOrExplain, openStore, type GlobalOptions } from './context.js';
import { sourceStatus, describeMarker, ago, humanSeconds, shortMarker, terminalWidth } from './status.js';
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
        const width = terminalWidth();
        const cells = (marker: (s: (typeof statuses)[number]) => string) =>
          statuses.map((s) => [
            s.id + (s.enabled ? '' : ' (disabled)'),
            s.stateMatchesConfig ? marker(s) : '(prefix changed: starts over)',
          s.lastPollStatus ? `${ago(s.lastPollEnd ?? s.lastPollStart, now)} ${s.lastPollStatus}` : 'never',
          s.nextPoll ? ago(s.nextPoll, now) : '-',
          String(s.objectsDone),
          String(s.events),
          String(s.objectsFailed),
            s.lagSeconds === null ? '-' : humanSeconds(s.lagSeconds),
          ]);
        const headers = ['SOURCE', 'MARKER', 'LAST POLL', 'NEXT POLL', 'OBJECTS', 'EVENTS', 'FAILED', 'LAG'];
        // The marker column gets what the other columns leave of the terminal's width.
        const others = table(headers, cells(() => '')).split('\n').reduce((widest, line) => Math.max(widest, line.length), 0);
        const markerWidth = Math.max(24, width - others - 2);
        process.stdout.write(table(headers, cells((s) => describeMarker(s.partitions, markerWidth))));
        for (const s of statuses) {
          if (s.partitions.length > 1 && s.stateMatchesConfig) {
            for (const partition of s.partitions) {
              const lag = partition.newestDoneModifiedMs ? humanSeconds(Math.round((now - partition.newestDoneModifiedMs) / 1000)) : '-';
              const room = Math.max(24, width - s.id.length - (partition.prefix || '/').length - lag.length - 18);
              process.stdout.write(`  ${s.id}: ${partition.prefix || '/'}  marker ${partition.settledKey ? shortMarker(partition.settledKey, partition.prefix, room) : '(beginning)'}  lag ${lag}\n`);
            }
          }
          if (s.queue) {
            const q = s.queue;
            const seen = q.checked ? `as of ${ago(q.checked, now)}` : 'not read yet (the service reads it every minute)';
            process.stdout.write(
              `  ${s.id}: queue ${q.url}: ${q.messages ?? '-'} waiting, ${q.inFlight ?? '-'} in flight, oldest received ${q.oldestMessageAgeSeconds === null ? '-' : humanSeconds(q.oldestMessageAgeSeconds)} old (${seen})\n`,
            );
          }
          if (s.lastPollError) process.stdout.write(`  ${s.id}: last error: ${s.lastPollError}\n`);
          if (s.pendingReset) process.stdout.write(`  ${s.id}: marker reset pending (${JSON.stringify(s.pendingReset)}), applied at the next poll\n`);
        }
      } finally {
        store?.close();
      }
    });
}
