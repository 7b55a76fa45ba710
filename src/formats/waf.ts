import { jsonRecordsFormat } from './jsonlines.js';
import { isoTime } from './typed.js';

/** AWS WAF logs (JSON lines); `timestamp` is epoch milliseconds. */
export const wafFormat = jsonRecordsFormat('waf', (record) => isoTime(record.timestamp, 'ms'));
