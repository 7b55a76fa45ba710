import type { OutputConfig } from '../config/schema.js';

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
      const url = new URL(output.url);
      return `http ${url.origin}${url.pathname === '/' ? '' : url.pathname} (${output.shape})`;
    }
  }
}

export function syslogPort(output: Extract<OutputConfig, { type: 'syslog' }>): number {
  return output.port ?? { tcp: 514, udp: 514, tls: 6514, relp: 2514, relp_tls: 2514 }[output.transport];
}
