import { accessLogFormat } from './access-log.js';

const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };

/** `06/Feb/2019:00:00:38 +0000` as ISO 8601. */
export function s3AccessTime(text: string): string | undefined {
  const match = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match || !MONTHS[match[2]!]) return undefined;
  const [, day, month, year, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
  const date = new Date(`${year}-${MONTHS[month!]}-${day}T${hour}:${minute}:${second}${sign}${offsetHours}:${offsetMinutes}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** S3 server access logs. */
export const s3accessFormat = accessLogFormat(
  's3access',
  [
    { name: 'bucket_owner' }, { name: 'bucket' }, { name: 'time' }, { name: 'remote_ip' }, { name: 'requester' }, { name: 'request_id' },
    { name: 'operation' }, { name: 'key' }, { name: 'request_uri' }, { name: 'http_status', type: 'number' }, { name: 'error_code' },
    { name: 'bytes_sent', type: 'number' }, { name: 'object_size', type: 'number' }, { name: 'total_time', type: 'number' }, { name: 'turn_around_time', type: 'number' },
    { name: 'referrer' }, { name: 'user_agent' }, { name: 'version_id' }, { name: 'host_id' }, { name: 'signature_version' }, { name: 'cipher_suite' },
    { name: 'authentication_type' }, { name: 'host_header' }, { name: 'tls_version' }, { name: 'access_point_arn' }, { name: 'acl_required' },
  ],
  18,
  (event) => {
    if (typeof event.time !== 'string') return undefined;
    const iso = s3AccessTime(event.time);
    if (iso) event.time = iso;
    return iso;
  },
);
