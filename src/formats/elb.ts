import { accessLogFormat } from './access-log.js';

/** Classic Load Balancer access logs. */
export const elbFormat = accessLogFormat(
  'elb',
  [
    { name: 'time' }, { name: 'elb' }, { name: 'client', type: 'hostport' }, { name: 'backend', type: 'hostport' },
    { name: 'request_processing_time', type: 'number' }, { name: 'backend_processing_time', type: 'number' }, { name: 'response_processing_time', type: 'number' },
    { name: 'elb_status_code', type: 'number' }, { name: 'backend_status_code', type: 'number' }, { name: 'received_bytes', type: 'number' }, { name: 'sent_bytes', type: 'number' },
    { name: 'request' }, { name: 'user_agent' }, { name: 'ssl_cipher' }, { name: 'ssl_protocol' },
  ],
  11,
  (event) => (typeof event.time === 'string' ? event.time : undefined),
);
