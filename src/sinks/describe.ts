import type { OutputConfig } from './options.js';

/** How an output is named in logs, `validate` and error messages (never with credentials). */
export function describeOutput(output: OutputConfig): string {
  switch (output.type) {
    case 'stdout':
      return 'stdout';
    case 'file':
      return `file ${output.path}`;
    case 'syslog':
      return `syslog ${output.transport}://${output.host}:${syslogPort(output)} (${output.protocol})`;
    case 'http': {
      const url = httpTargetUrl(output);
      return `http ${url.origin}${url.pathname} (${output.shape})`;
    }
  }
}

export function syslogPort(output: Extract<OutputConfig, { type: 'syslog' }>): number {
  return output.port ?? { tcp: 514, udp: 514, tls: 6514, relp: 2514, relp_tls: 2514 }[output.transport];
}

/** Where the http output posts: the configured URL, or HEC's or _bulk's path when it has none. */
export function httpTargetUrl(output: Extract<OutputConfig, { type: 'http' }>): URL {
  const url = new URL(output.url);
  const defaultPath = output.shape === 'splunk_hec' ? '/services/collector/event' : output.shape === 'elasticsearch' ? '/_bulk' : undefined;
  if (url.pathname === '/' && defaultPath) url.pathname = defaultPath;
  if (output.shape === 'elasticsearch' && output.elasticsearch.pipeline) url.searchParams.set('pipeline', output.elasticsearch.pipeline);
  return url;
}
