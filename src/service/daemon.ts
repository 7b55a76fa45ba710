/**
 * The service's lifecycle (`s3pull run`): starts every source's runner, reloads the sources and
 * the output on SIGHUP (reopening the output file for logrotate), and on SIGTERM lets the work
 * in flight commit its delivered batches before it closes the output and the state file.
 */
import { createMetrics } from '../telemetry/metrics.js';
import { emit, recordEventsInto } from '../telemetry/events.js';
import { startMonitoring, type MonitoringServer } from '../telemetry/server.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { Sink } from '../sinks/types.js';
import type { Store } from '../state/types.js';
import type { Clock } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { Collector } from './collector.js';
import { onShutdownSignals } from './shutdown.js';

export interface DaemonOptions {
  log: Logger;
  store: Store;
  clock: Clock;
  /** Makes the output of a config (at start, and when a reload changes it). */
  createSink: (config: LoadedConfig) => Sink;
  /** Ends the process at once, when a stop cannot finish (only the CLI may). */
  exit: () => void;
}

export class Daemon {
  private current: LoadedConfig;
  private sink: Sink;
  private readonly collector: Collector;
  private stopped: Promise<number> | undefined;
  private finished!: (code: number) => void;
  /** Resolves with the exit code once the service has stopped. */
  readonly done: Promise<number>;

  constructor(
    config: LoadedConfig,
    private readonly options: DaemonOptions,
  ) {
    this.current = config;
    this.sink = options.createSink(config);
    this.done = new Promise((resolve) => (this.finished = resolve));
    this.collector = new Collector(config, {
      store: options.store,
      sink: this.sink,
      log: options.log,
      clock: options.clock,
      onPollFinished: (result) => {
        if (result.fatal) {
          emit(options.log, 's3pull_stops', { reason: result.fatal });
          void this.shutdown(result.fatal, 3);
        }
      },
    });
  }

  /** Starts the sources and listens for SIGHUP, SIGTERM and SIGINT. */
  start(): void {
    const { log } = this.options;
    emit(log, 's3pull_started', { sources: this.current.sources.filter((s) => s.enabled).length, output: this.sink.description, state: this.current.collector.state });
    this.startMonitoring();
    this.collector.start();
    process.on('SIGHUP', this.onHup);
    this.signals = onShutdownSignals({
      log,
      stop: (signal) => this.shutdown(signal).then(() => {}),
      inFlight: () => this.collector.inFlight(),
      exit: this.options.exit,
      graceMs: this.current.collector.shutdown_timeout,
    });
  }

  private signals: { dispose(): void } | undefined;
  private monitoring: Promise<MonitoringServer | undefined> | undefined;

  /** The metrics endpoint, where s3pull.yaml asks for one; one that cannot listen is logged, and the service goes on. */
  private startMonitoring(): void {
    const listen = this.current.collector.metrics?.listen;
    if (!listen) return;
    const { log, store, clock } = this.options;
    const collector = this.collector;
    const metrics = createMetrics({ sources: () => collector.sources, store, now: () => clock.now(), nextRunMs: (id) => collector.nextRunMs(id) });
    // Counting starts before the sources do, so that their first objects are counted.
    recordEventsInto(metrics.events);
    this.monitoring = startMonitoring({
      host: listen.host,
      port: listen.port,
      metrics,
      sources: () => collector.sources,
      sourceRow: (id) => store.getSource(id),
      nextRunMs: (id) => collector.nextRunMs(id),
      now: () => clock.now(),
    }).then(
      (server) => {
        emit(log, 'monitoring_listening', { address: server.address });
        return server;
      },
      (error: unknown) => {
        emit(log, 'monitoring_failed', { host: listen.host, port: listen.port, error: errorMessage(error) });
        return undefined;
      },
    );
  }
  private readonly onHup = () => void this.reload();

  /** Applies the config folder as it is now; a config that does not load leaves the running one. */
  async reload(): Promise<void> {
    const { log } = this.options;
    try {
      const next = loadConfig(this.current.dir);
      if (restartOnlyChanged(this.current, next)) {
        emit(log, 'reload_restart_only', {});
      }
      const change = await this.collector.reload(next);
      if (outputChanged(this.current, next)) {
        const replacement = this.options.createSink(next);
        const previous = await this.collector.replaceSink(replacement);
        await previous.close();
        this.sink = replacement;
        emit(log, 'output_changed', { was: previous.description, now: replacement.description });
      } else {
        await this.sink.reopen();
      }
      this.current = next;
      emit(log, 'config_reloaded', { added: change.added.join(',') || '-', removed: change.removed.join(',') || '-', changed: change.changed.join(',') || '-' });
    } catch (error) {
      emit(log, 'reload_refused', { error: errorMessage(error) });
    }
  }

  /** Stops once: the work in flight commits, then the output and the state file close. */
  shutdown(reason: string, exitCode = 0): Promise<number> {
    const { log } = this.options;
    this.stopped ??= (async () => {
      process.off('SIGHUP', this.onHup);
      emit(log, 'stopping', { reason });
      await this.collector.stop();
      await (await this.monitoring)?.close();
      recordEventsInto(undefined);
      await this.sink.close().catch((error: unknown) => emit(log, 'output_close_failed', { error: errorMessage(error) }));
      this.options.store.close();
      emit(log, 's3pull_stopped', {});
      this.signals?.dispose();
      this.finished(exitCode);
      return exitCode;
    })();
    return this.stopped;
  }
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
  return (
    before.collector.state !== after.collector.state ||
    JSON.stringify(before.collector.log) !== JSON.stringify(after.collector.log) ||
    JSON.stringify(before.collector.metrics) !== JSON.stringify(after.collector.metrics)
  );
}
