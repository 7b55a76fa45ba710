import type { OutputConfig } from './options.js';
import type { ProxyServerConfig } from '../net/options.js';
import type { TrustStore } from '../net/trust.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Sink } from './types.js';
import { FileSink } from './file.js';
import { StdoutSink } from './stdout.js';
import { SyslogSink } from './syslog.js';
import { HttpSink } from './http.js';
import { registerSecret } from '../log/logger.js';

/** Tokens and passwords of the output, so that no log line ever shows them. */
/** What the outputs role reads of s3pull.yaml: the output, and the collector's default proxy. */
export interface OutputSettings {
  output: OutputConfig;
  proxy?: ProxyServerConfig | undefined;
}

function outputSecrets({ output, proxy }: OutputSettings): (string | undefined)[] {
  if (output.type !== 'http') return [];
  const auth = output.auth;
  const own = auth?.type === 'basic' ? auth.password : auth?.token;
  const usedProxy = output.proxy ?? proxy;
  return [own, usedProxy && usedProxy !== 'none' ? usedProxy.password : undefined, ...Object.entries(output.headers).filter(([name]) => /auth|token|key/i.test(name)).map(([, value]) => value)];
}

export interface SinkContext {
  collector: OutputSettings;
  trust: TrustStore;
  log: Logger;
  clock?: Clock;
}

export function createSink({ collector, trust, log, clock = systemClock }: SinkContext): Sink {
  const output = collector.output;
  for (const secret of outputSecrets(collector)) registerSecret(secret);
  switch (output.type) {
    case 'stdout':
      return new StdoutSink();
    case 'file':
      return new FileSink(output.path, log);
    case 'syslog':
      return new SyslogSink(output, { clock, log, ca: trust.ca });
    case 'http':
      return new HttpSink(output, { clock, log, ca: trust.ca, proxy: output.proxy ?? collector.proxy ?? 'none' });
  }
}

export type { Sink } from './types.js';
