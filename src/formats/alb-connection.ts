import { accessLogFormat, accessLogTime, otherLogHint } from './access-log.js';

/**
 * Application Load Balancer connection logs (TLS and mutual-TLS connections), fields as AWS
 * documents them. The leaf certificate's validity (`NotBefore=…;NotAfter=…`) is also split into
 * `leaf_client_cert_not_before` and `leaf_client_cert_not_after`.
 */
export const albConnectionFormat = accessLogFormat(
  'alb_connection',
  [
    { name: 'time' }, { name: 'client_ip' }, { name: 'client_port', type: 'number' }, { name: 'listener_port', type: 'number' },
    { name: 'tls_protocol' }, { name: 'tls_cipher' }, { name: 'tls_handshake_latency', type: 'number' },
    { name: 'leaf_client_cert_subject' }, { name: 'leaf_client_cert_validity' }, { name: 'leaf_client_cert_serial_number' },
    { name: 'tls_verify_status' }, { name: 'conn_trace_id' },
  ],
  11,
  (event) => accessLogTime(event.time),
  {
    shape: (values) => {
      if (accessLogTime(values[0]) === undefined) return `time "${values[0]}" is not an ISO 8601 time${otherLogHint(values)}`;
      if (!/^\d+$/.test(values[2]!) || !/^\d+$/.test(values[3]!)) return `client port "${values[2]}" and listener port "${values[3]}" must be numbers${otherLogHint(values)}`;
      return undefined;
    },
    derive: (event) => {
      const validity = event['leaf_client_cert_validity'];
      if (typeof validity !== 'string') return;
      event['leaf_client_cert_not_before'] = /NotBefore=([^;]+)/.exec(validity)?.[1] ?? null;
      event['leaf_client_cert_not_after'] = /NotAfter=([^;]+)/.exec(validity)?.[1] ?? null;
    },
  },
);
