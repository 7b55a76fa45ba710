/**
 * `s3pull backfill SOURCE --from DATE [--to DATE] [--again [--output NAME]]`: a job beside the
 * live marker (src/backfill/run-job.ts). Run again after a crash or SIGTERM, the same command
 * resumes the job; run again after it finished, it starts a new one.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { emit } from '../telemetry/events.js';
import { findSource, loadConfigOrExplain, loggerFor, openStore, ExitCode, type GlobalOptions } from './context.js';
import { defaultBucketFactory } from '../service/collector.js';
import { RECONCILE_GRACE_MS } from '../service/runners.js';
import { createSink } from '../sinks/index.js';
import { describeOutput } from '../sinks/describe.js';
import { systemClock } from '../util/clock.js';
import { onShutdownSignals } from '../service/shutdown.js';
import { forceExit } from './exit.js';
import { ParseThreads, parseThreadCount } from '../pipeline/parse-threads.js';
import { requestCounts } from '../aws/request-counts.js';
import { runJob, type JobProgress, type JobRequest, type JobResult } from '../backfill/run-job.js';
import { utcDayOf } from '../backfill/day-folders.js';
import { table } from './summary.js';
import { errorMessage } from '../util/errors.js';
import type { LoadedConfig } from '../config/load.js';

const DAY_MS = 86_400_000;

interface BackfillOptions {
  from: string;
  to?: string;
  again?: boolean;
  output?: string;
  progress: boolean;
}

export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .argument('<source>', 'the source whose older objects to pull')
    .requiredOption('--from <date>', 'first day (UTC) of the range: 2026-11-17, or a time such as 2026-11-17T08:00Z (its day)')
    .option('--to <date>', 'last day (UTC) of the range, included (default: today)')
    .option('--again', 'replay: deliver every object of the range again, delivered or not, leaving the live state as it is')
    .option('--output <name>', 'with --again: deliver to this output of s3pull.yaml (under outputs:), not the source\'s own')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .description(
      'pull the objects of a date range that the source has not delivered, listing only the day folders of the range, beside the live marker (never moved or reset; safe while `run` runs). Resumable: run the same command again after a crash or SIGTERM. Exit 1 unless every folder was finished',
    )
    .action(async (id: string, options: BackfillOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfigOrExplain(globals);
      const source = findSource(config, id);
      const request = jobRequest(id, options, config);
      if (source.bucket === '') refuse(`${id} has no bucket to list: an SQS source needs bucket (and collection.reconcile) to be backfilled (${source.file})`);

      const showBar = options.progress && process.stderr.isTTY;
      const log = loggerFor(config, showBar && !globals.logLevel ? { ...globals, logLevel: 'warn' } : globals);
      const output = request.output === null ? config.collector.output : config.collector.outputs[request.output]!;
      if (request.kind === 'backfill' && Date.parse(`${request.fromDay}T00:00:00Z`) < Date.now() - source.history_retention) {
        // Said up front: it is why a backfill of an old range can deliver some objects twice.
        emit(log, 'config_warning', {
          warning: `${id}: the range begins before history_retention (${source.history_retention / DAY_MS} days): objects delivered then are known only by the marker's record of when it left each day folder; an object written within a minute of that is pulled again (with the same event ids)`,
        });
      }
      const store = openStore(config, false, log);
      const sink = createSink({ collector: { output, proxy: config.collector.proxy }, trust: config.trust, log });
      const threads = parseThreadCount(config.collector.parse_threads);
      const parseThreads = threads > 0 ? new ParseThreads(threads) : undefined;
      const bucket = defaultBucketFactory(source, config.trust.ca);
      const controller = new AbortController();
      const signals = onShutdownSignals({
        log,
        stop: async () => {
          emit(log, 'interrupted', {});
          controller.abort();
          await finished;
        },
        inFlight: () => [],
        exit: forceExit,
        graceMs: config.collector.shutdown_timeout,
      });
      const bar = showBar ? progressBar(request) : undefined;
      const finished = runJob(
        source,
        request,
        {
          store,
          sink,
          bucket,
          clock: systemClock,
          log,
          parseThreads,
          youngestMs: source.collection.type === 'sqs' ? RECONCILE_GRACE_MS : undefined,
          onStart: (progress) => bar?.update(progress),
          onFolderDone: (progress) => bar?.update(progress),
        },
        controller.signal,
      );
      let result: JobResult;
      try {
        result = await finished;
      } finally {
        bar?.stop();
        signals.dispose();
        bucket.destroy();
        await parseThreads?.close();
        await sink.close();
        try {
          store.addRequests(requestCounts.drain());
        } catch (error) {
          // Only the counts `sources` shows are lost; the job's own error, if any, is the one to tell.
          emit(log, 'requests_not_stored', { error: errorMessage(error) });
        }
        store.close();
      }
      process.stdout.write(jobSummary(id, request, result, describeOutput(output)));
      if (result.status !== 'done') throw new ExitCode(1);
    });
}

function refuse(message: string): never {
  process.stderr.write(`s3pull backfill: ${message}\n`);
  throw new ExitCode(2);
}

function jobRequest(id: string, options: BackfillOptions, config: LoadedConfig): JobRequest {
  const fromDay = utcDayOf(options.from);
  if (!fromDay) refuse(`--from ${options.from} is not a date (such as 2026-11-17 or 2026-11-17T08:00Z)`);
  const toDay = options.to === undefined ? new Date().toISOString().slice(0, 10) : utcDayOf(options.to);
  if (!toDay) refuse(`--to ${options.to} is not a date (such as 2026-11-23 or 2026-11-23T08:00Z)`);
  if (toDay < fromDay) refuse(`--to ${toDay} is before --from ${fromDay}`);
  if (options.output !== undefined) {
    // Delivered to another output is not delivered to the source's: it must not count as such.
    if (!options.again) refuse(`--output needs --again: what goes to another output is a replay, and does not count as delivered for ${id}`);
    const names = Object.keys(config.collector.outputs);
    if (!names.includes(options.output)) refuse(`--output ${options.output}: s3pull.yaml has no such output under outputs: (${names.join(', ') || 'none defined'})`);
  }
  return { kind: options.again ? 'replay' : 'backfill', fromDay, toDay, output: options.output ?? null };
}

export function jobSummary(id: string, request: JobRequest, result: JobResult, output: string): string {
  const what = request.kind === 'replay' ? 'replay' : 'backfill';
  const job = result.job ? ` (job #${result.job.jobId}${result.resumed ? ', resumed' : ''})` : '';
  let text = `${what} of ${id}, ${request.fromDay} to ${request.toDay}, to ${output}${job}: ${result.status}\n\n`;
  const rows: string[][] = [
    ['folders done', `${result.foldersDone} of ${result.folders}`],
    ['objects delivered', String(result.objectsDone)],
    ['events delivered', String(result.events)],
    [request.kind === 'replay' ? 'objects replayed before (this job)' : 'objects delivered before', String(result.alreadyDone)],
    ['objects quarantined', String(result.objectsFailed)],
    ['objects to try again', String(result.objectsLeft)],
  ];
  if (result.leftToQueue > 0) rows.push(['objects left to the queue', String(result.leftToQueue)]);
  if (result.badLines > 0) rows.push(['bad lines', String(result.badLines)]);
  text += table(['', 'THIS RUN'], rows);
  if (result.errors.length > 0) text += `\n${[...new Set(result.errors)].slice(0, 10).join('\n')}\n`;
  if (result.status !== 'done' && result.status !== 'busy') text += '\nrun the same command again to resume the job\n';
  return text;
}

function progressBar(request: JobRequest): { update(progress: JobProgress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: `${request.kind} [{bar}] {value}/{total} folders | {objects} objects | {events} events`, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      if (!started) bar.start(progress.folders, progress.foldersDone, { objects: progress.objects, events: progress.events });
      else bar.update(progress.foldersDone, { objects: progress.objects, events: progress.events });
      started = true;
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
