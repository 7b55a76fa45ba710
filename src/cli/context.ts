import { loadConfig, defaultConfigDir, type LoadedConfig } from '../config/load.js';
import { emit } from '../telemetry/events.js';
import { createLogger, type Logger, type LogLevel } from '../log/logger.js';
import { openSqliteStore } from '../state/sqlite-store.js';
import type { Store } from '../state/types.js';
import { ConfigError } from '../util/errors.js';
import { insecureEnvironmentWarning } from '../net/trust.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: LogLevel;
}

/** Thrown by commands to end with an exit code; only the entry point turns it into an exit. */
export class ExitCode extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
  }
}

export function loadConfigOrExplain(options: GlobalOptions): LoadedConfig {
  const dir = options.config ?? defaultConfigDir();
  try {
    return loadConfig(dir);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`s3pull: the configuration in ${dir} has ${error.problems.length} problem(s):\n`);
      for (const problem of error.problems) process.stderr.write(`  ${problem}\n`);
      throw new ExitCode(2);
    }
    throw error;
  }
}

export function loggerFor(config: LoadedConfig, options: GlobalOptions): Logger {
  const log = createLogger({ level: options.logLevel ?? config.collector.log.level, format: config.collector.log.format });
  for (const warning of config.warnings) emit(log, 'config_warning', { warning });
  const insecure = insecureEnvironmentWarning();
  if (insecure) emit(log, 'config_warning', { warning: insecure });
  return log;
}

export function openStore(config: LoadedConfig, readonly = false, log?: Logger): Store {
  return openSqliteStore(config.collector.state, {
    readonly,
    onRestored: (file) => log && emit(log, 'state_restored', { path: file }),
  });
}

export function findSource(config: LoadedConfig, id: string) {
  const source = config.sources.find((candidate) => candidate.id === id);
  if (!source) {
    const known = config.sources.map((candidate) => candidate.id).join(', ') || 'none';
    process.stderr.write(`s3pull: no source with id "${id}" in ${config.dir} (sources: ${known})\n`);
    throw new ExitCode(2);
  }
  return source;
}
