import { jsonRecordsFormat } from './jsonlines.js';
import { isoTime } from './typed.js';

/**
 * Route 53 Resolver query logs (JSON lines). AWS writes the source port as a string; it is made a
 * number like every other format's ports.
 */
export const route53resolverFormat = jsonRecordsFormat('route53resolver', (record) => {
  if (typeof record.srcport === 'string' && /^\d+$/.test(record.srcport)) record.srcport = Number(record.srcport);
  return isoTime(record.query_timestamp);
});
