/**
 * Syslog messages: RFC 5424 (the default) or RFC 3164 (BSD, for receivers that take only that),
 * framed for streams as RFC 6587 says (octet counting, or a line feed), or bare for UDP.
 */
import type { SyslogOutputConfig } from './options.js';
import { compileTemplate } from './template.js';
import { eventJson, type OutputRecord } from './types.js';

const FACILITY_CODES: Record<SyslogOutputConfig['facility'], number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  ntp: 12, security: 13, console: 14, 'solaris-cron': 15, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20,
  local5: 21, local6: 22, local7: 23,
};
const SEVERITY_CODES: Record<SyslogOutputConfig['severity'], number> = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Header fields are printable US-ASCII without spaces (RFC 5424 §6); anything else becomes "_". */
function headerField(value: string, maxLength: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

export type MessageFormatter = (record: OutputRecord) => string;

export function syslogFormatter(config: Pick<SyslogOutputConfig, 'protocol' | 'facility' | 'severity' | 'hostname' | 'app_name' | 'message'>, pid = process.pid): MessageFormatter {
  const pri = `<${FACILITY_CODES[config.facility] * 8 + SEVERITY_CODES[config.severity]}>`;
  const hostnameOf = compileTemplate(config.hostname);
  const appNameOf = compileTemplate(config.app_name);
  const body = config.message === 'event' ? eventJson : (record: OutputRecord) => record.line;
  if (config.protocol === 'rfc3164') {
    return (record) => {
      // RFC 3164 has no year and no zone: the event's time in UTC, as the README says.
      const date = new Date(record.time);
      const time = Number.isNaN(date.getTime()) ? new Date() : date;
      const stamp = `${MONTHS[time.getUTCMonth()]} ${String(time.getUTCDate()).padStart(2, ' ')} ${time.toISOString().slice(11, 19)}`;
      const tag = appNameOf(record).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32) || 's3pull';
      return `${pri}${stamp} ${headerField(hostnameOf(record), 255)} ${tag}: ${body(record)}`;
    };
  }
  const procId = String(pid);
  return (record) => {
    const date = new Date(record.time);
    const stamp = Number.isNaN(date.getTime()) ? '-' : date.toISOString();
    // MSGID names the format, so a receiver can route CloudTrail apart from flow logs.
    return `${pri}1 ${stamp} ${headerField(hostnameOf(record), 255)} ${headerField(appNameOf(record), 48)} ${procId} ${headerField(record.format, 32)} - ${body(record)}`;
  };
}

/** One message framed for a stream: "LENGTH SP MESSAGE" (octet counting) or "MESSAGE LF". */
export function frame(message: string, framing: SyslogOutputConfig['framing']): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  if (framing === 'lf') return Buffer.concat([bytes, Buffer.from('\n')]);
  return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
}

/** A datagram of at most `maxBytes`, cut on a UTF-8 character boundary; `truncated` says whether it was cut. */
export function datagram(message: string, maxBytes: number): { bytes: Buffer; truncated: boolean } {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxBytes) return { bytes, truncated: false };
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return { bytes: bytes.subarray(0, end), truncated: true };
}
