import { accessLogFormat, accessLogTime, otherLogHint } from './access-log.js';

/**
 * Network Load Balancer access logs (TLS listeners only), fields as AWS documents them for log
 * versions 1.0 and 2.0; fields a later version appends are kept as `field_<n>`. Times are ISO
 * 8601 without a zone (UTC); the connection and handshake times are milliseconds.
 */
export const nlbFormat = accessLogFormat(
  'nlb',
  [
    { name: 'type' }, { name: 'version' }, { name: 'time' }, { name: 'elb' }, { name: 'listener' },
    { name: 'client', type: 'hostport' }, { name: 'destination', type: 'hostport' },
    { name: 'connection_time', type: 'number' }, { name: 'tls_handshake_time', type: 'number' },
    { name: 'received_bytes', type: 'number' }, { name: 'sent_bytes', type: 'number' }, { name: 'incoming_tls_alert' },
    { name: 'chosen_cert_arn' }, { name: 'chosen_cert_serial' }, { name: 'tls_cipher' }, { name: 'tls_protocol_version' },
    { name: 'tls_named_group' }, { name: 'domain_name' }, { name: 'alpn_fe_protocol' }, { name: 'alpn_be_protocol' },
    { name: 'alpn_client_preference_list' }, { name: 'tls_connection_creation_time' },
  ],
  18,
  (event) => accessLogTime(event.time),
  {
    shape: (values) => {
      if (values[0] !== 'tls') return `"${values[0]}" is not an NLB log type (tls)${otherLogHint(values)}`;
      if (!/^\d+\.\d+$/.test(values[1]!)) return `version "${values[1]}" is not a log version (1.0, 2.0)`;
      if (accessLogTime(values[2]) === undefined) return `time "${values[2]}" is not an ISO 8601 time`;
      return undefined;
    },
  },
);
