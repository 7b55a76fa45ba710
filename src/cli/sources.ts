import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ExitCode, loadConfigOrExplain, openStore, type GlobalOptions } from './context.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { utcDay } from '../util/clock.js';
import { sourceStatus, describeMarker, ago, humanSeconds, shortMarker, terminalWidth } from './status.js';
import { table } from './summary.js';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../state/types.js';

export function registerSources(program: Command): void {
  program
    .command('sources')
    .description('status of every source: marker, last and next poll, objects, events, failures, lag')
    .option('--json', 'print JSON instead of a table')
    .option('--watch [interval]', 'redraw every interval (default 2s) until Ctrl-C: in place on a terminal; in a pipe one table after another, or with --json one line of JSON each')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { json?: boolean; watch?: string | true }>();
      const config = loadConfigOrExplain(options);
      if (options.watch === undefined) {
        const store = existsSync(config.collector.state) ? openStore(config, true) : undefined;
        try {
          process.stdout.write(options.json ? statusJson(config, store) : statusTable(config, store, Date.now()));
        } finally {
          store?.close();
        }
        return;
      }
      const intervalMs = options.watch === true ? 2000 : parseDuration(options.watch);
      if (intervalMs === undefined || intervalMs < 1000 || intervalMs > 3_600_000) {
        throw new ExitCode(2, `s3pull sources: --watch ${String(options.watch)}: give an interval from 1s to 1h, such as 2s or 1m`);
      }
      await watch(config, intervalMs, options.json === true);
    });
}

/**
 * Redraws until SIGINT or SIGTERM. The state file is opened read-only once it exists (the service
 * may create it meanwhile) and read afresh at each turn: WAL readers see every commit.
 */
async function watch(config: LoadedConfig, intervalMs: number, json: boolean): Promise<void> {
  const onTerminal = process.stdout.isTTY === true;
  let store: Store | undefined;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      store ??= existsSync(config.collector.state) ? openStore(config, true) : undefined;
      const now = Date.now();
      // JSON in a pipe is one line per turn (NDJSON), for a script to read as it comes.
      const body = json ? statusJson(config, store, !onTerminal) : statusTable(config, store, now);
      const heading = `every ${formatDuration(intervalMs)}, as of ${new Date(now).toISOString().slice(11, 19)}Z (Ctrl-C to stop)\n\n`;
      // In place on a terminal (cursor home, clear); in a pipe or a file, one after another.
      process.stdout.write(onTerminal ? `\x1b[H\x1b[2J${heading}${body}` : json ? `${body}` : `${heading}${body}\n`);
      await delay(intervalMs, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store?.close();
  }
}

function statusJson(config: LoadedConfig, store: Store | undefined, oneLine = false): string {
  const now = Date.now();
  return `${JSON.stringify(config.sources.map((source) => sourceStatus(source, store, now)), null, oneLine ? undefined : 2)}\n`;
}

function statusTable(config: LoadedConfig, store: Store | undefined, now: number): string {
  const statuses = config.sources.map((source) => sourceStatus(source, store, now));
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
  let text = table(headers, cells((s) => describeMarker(s.partitions, markerWidth)));
  for (const s of statuses) {
    if (s.partitions.length > 1 && s.stateMatchesConfig) {
      for (const partition of s.partitions) {
        const lag = partition.newestDoneModifiedMs ? humanSeconds(Math.round((now - partition.newestDoneModifiedMs) / 1000)) : '-';
        const room = Math.max(24, width - s.id.length - (partition.prefix || '/').length - lag.length - 18);
        text += `  ${s.id}: ${partition.prefix || '/'}  marker ${partition.settledKey ? shortMarker(partition.settledKey, partition.prefix, room) : '(beginning)'}  lag ${lag}\n`;
      }
    }
    if (s.queue) {
      const q = s.queue;
      const seen = q.checked ? `as of ${ago(q.checked, now)}` : 'not read yet (the service reads it every minute)';
      text += `  ${s.id}: queue ${q.url}: ${q.messages ?? '-'} waiting, ${q.inFlight ?? '-'} in flight, oldest received ${q.oldestMessageAgeSeconds === null ? '-' : humanSeconds(q.oldestMessageAgeSeconds)} old (${seen})\n`;
    }
    for (const silence of s.silent) {
      text += `  ${s.id}: SILENT ${silence.prefix}: newest object ${humanSeconds(silence.silentForSeconds)} old, expected within ${humanSeconds(silence.expectedWithinSeconds)}\n`;
    }
    if (s.digests) {
      const d = s.digests;
      const problems = Object.entries(d.problems).map(([kind, count]) => `${count} ${kind.replaceAll('_', ' ')}`).join(', ');
      text += d.lastCheck
        ? `  ${s.id}: digests (2 days): ${d.checked} checked ${ago(d.lastCheck, now)}, ${d.recovered} file(s) recovered, ${problems ? `PROBLEMS: ${problems} (s3pull verify ${s.id})` : 'no problem'}\n`
        : `  ${s.id}: digests: not checked yet (the poll checks them at most once an hour)\n`;
    }
    for (const job of s.jobs) {
      const range = job.from === job.to ? job.from : `${job.from}..${job.to}`;
      const to = job.output ? ` to ${job.output}` : '';
      const state = job.finished ? `finished ${ago(job.finished, now)}` : `UNFINISHED (started ${ago(job.started, now)}; the same command resumes it)`;
      text += `  ${s.id}: ${job.kind} #${job.job} ${range}${to}: ${state}, ${job.foldersDone} folder(s), ${job.objects} objects, ${job.events} events\n`;
    }
    const today = s.requests[utcDay(now)];
    if (today) text += `  ${s.id}: AWS requests today (UTC): ${Object.entries(today).map(([operation, count]) => `${operation} ${count}`).join(', ')}\n`;
    if (s.lastPollError) text += `  ${s.id}: last error: ${s.lastPollError}\n`;
    if (s.pendingReset) text += `  ${s.id}: marker reset pending (${JSON.stringify(s.pendingReset)}), applied at the next poll\n`;
  }
  return text;
}
