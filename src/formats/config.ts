import { jsonDocumentFormat } from './json-document.js';

/**
 * AWS Config snapshot and history files (`{"fileVersion", "configurationItems": [...]}`): one
 * event per configuration item, at its capture time. Split record by record as it streams, like CloudTrail.
 */
export const configFormat = jsonDocumentFormat({
  name: 'config',
  recordsPath: ['configurationItems'],
  kind: 'an AWS Config snapshot or history file',
  toItem: (item) => ({
    event: item,
    time: typeof item.configurationItemCaptureTime === 'string' ? item.configurationItemCaptureTime : undefined,
  }),
});
