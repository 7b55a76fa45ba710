import { accessLogFormat, accessLogTime, otherLogHint } from './access-log.js';

/** The request types an ALB access log line begins with. */
const ALB_TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);

/** Application Load Balancer access logs, fields as AWS documents them (newer fields appended). */
export const albFormat = accessLogFormat(
  'alb',
  [
    { name: 'type' }, { name: 'time' }, { name: 'elb' }, { name: 'client', type: 'hostport' }, { name: 'target', type: 'hostport' },
    { name: 'request_processing_time', type: 'number' }, { name: 'target_processing_time', type: 'number' }, { name: 'response_processing_time', type: 'number' },
    { name: 'elb_status_code', type: 'number' }, { name: 'target_status_code', type: 'number' }, { name: 'received_bytes', type: 'number' }, { name: 'sent_bytes', type: 'number' },
    { name: 'request' }, { name: 'user_agent' }, { name: 'ssl_cipher' }, { name: 'ssl_protocol' }, { name: 'target_group_arn' }, { name: 'trace_id' },
    { name: 'domain_name' }, { name: 'chosen_cert_arn' }, { name: 'matched_rule_priority' }, { name: 'request_creation_time' }, { name: 'actions_executed' },
    { name: 'redirect_url' }, { name: 'error_reason' }, { name: 'target_port_list' }, { name: 'target_status_code_list' }, { name: 'classification' },
    { name: 'classification_reason' }, { name: 'conn_trace_id' },
  ],
  12,
  (event) => (typeof event.time === 'string' ? event.time : undefined),
  {
    shape: (values) => {
      if (!ALB_TYPES.has(values[0]!)) return `"${values[0]}" is not an ALB request type (http, https, h2, grpcs, ws, wss)${otherLogHint(values)}`;
      if (accessLogTime(values[1]) === undefined) return `time "${values[1]}" is not an ISO 8601 time`;
      return undefined;
    },
  },
);
