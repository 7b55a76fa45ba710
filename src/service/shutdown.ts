/**
 * SIGTERM and SIGINT for the commands that pull (`run`, `once`): the first signal stops the
 * sources, which commit their delivered batches; if that has not finished within the grace
 * period (a write or a read that never returns), what was abandoned is logged and the process
 * ends anyway: nothing past the last delivered batch was committed, so the marker is where
 * delivery stopped. A second signal ends it at once.
 */
import type { Logger } from '../log/logger.js';
import { emit } from '../telemetry/events.js';

export interface ShutdownOptions {
  log: Logger;
  /** Stops everything gracefully; resolves when done. */
  stop: (signal: string) => Promise<void>;
  /** What is still in flight, for the log line when the grace period runs out. */
  inFlight: () => string[];
  graceMs: number;
  /** Ends the process at once (only the CLI may). */
  exit: () => void;
}

export function onShutdownSignals(options: ShutdownOptions): { dispose(): void } {
  const { graceMs } = options;
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      emit(options.log, 'second_signal', { signal, in_flight: options.inFlight().join(',') || '-' });
      options.exit();
      return;
    }
    stopping = true;
    const timer = setTimeout(() => {
      emit(options.log, 'shutdown_overdue', { signal, grace_s: graceMs / 1000, in_flight: options.inFlight().join(',') || '-' });
      options.exit();
    }, graceMs);
    void options.stop(signal).finally(() => clearTimeout(timer));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return {
    dispose() {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
    },
  };
}
