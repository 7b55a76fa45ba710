import { jsonRecordsFormat } from './jsonlines.js';
import { isoTime } from './typed.js';

/** AWS Network Firewall alert and flow logs (JSON lines); the time is the Suricata event's own. */
export const networkfirewallFormat = jsonRecordsFormat('networkfirewall', (record) => {
  const event = record.event as { timestamp?: unknown } | undefined;
  return isoTime(event?.timestamp) ?? isoTime(record.event_timestamp);
});
