/**
 * The collector's own log (not the events): winston to stderr, so that the stdout output stays
 * pure NDJSON. Every line passes through redaction: secret values registered from the config and
 * fields whose names say secret, password or token never reach the log.
 */
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether a line at this level would be written (so that a debug event costs nothing at info). */
  enabled?(level: LogLevel): boolean;
  /** The fields every line of this logger carries (its child fields: source, key…); events take their source label from it. */
  readonly context: Readonly<Record<string, unknown>>;
}

const secrets = new Set<string>();
const SECRET_FIELD = /secret|password|token|authorization/i;

/** Values that must never be printed (keys, passwords, session tokens). */
export function registerSecret(value: string | undefined): void {
  // Very short values would mask ordinary words; real secrets are long.
  if (value && value.length >= 6) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (SECRET_FIELD.test(key)) info[key] = '***';
    else if (typeof value === 'string') info[key] = redact(value);
  }
  return info;
});

const text = winston.format.printf((info) => {
  const { level, message, timestamp, ...fields } = info;
  const rest = Object.entries(fields)
    .filter(([key]) => typeof key === 'string')
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${rest ? ` ${rest}` : ''}`;
});

export function createLogger(options: { level: LogLevel; format: 'text' | 'json'; stream?: NodeJS.WritableStream }): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] });
  const logger = winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      redaction(),
      winston.format.timestamp(),
      options.format === 'json' ? winston.format.json() : text,
    ),
    transports: [transport],
  });
  return wrap(logger, {});
}

function wrap(logger: winston.Logger, context: Record<string, unknown>): Logger {
  return {
    error: (message, fields) => logger.error(message, fields),
    warn: (message, fields) => logger.warn(message, fields),
    info: (message, fields) => logger.info(message, fields),
    debug: (message, fields) => logger.debug(message, fields),
    child: (fields) => wrap(logger.child(fields), { ...context, ...fields }),
    enabled: (level) => logger.isLevelEnabled(level),
    context,
  };
}

/** For library code and tests that want no output. */
export const silentLogger: Logger = silentWith({});

function silentWith(context: Record<string, unknown>): Logger {
  // Its children keep their context: events still count under the right source.
  return {
    error() {},
    warn() {},
    info() {},
    debug() {},
    child: (fields) => silentWith({ ...context, ...fields }),
    enabled: () => false,
    context,
  };
}
