import type { Format } from './types.js';
import { jsonDocumentFormat } from './json-document.js';
import { classifyCloudTrail } from './cloudtrail-categories.js';

/**
 * CloudTrail log files: `{"Records": [...]}`, one event per record, each with its `category`
 * and `outcome` (cloudtrail-categories.ts) beside it in the envelope.
 */
export function createCloudTrailFormat(): Format {
  return jsonDocumentFormat({
    name: 'cloudtrail',
    recordsPath: ['Records'],
    kind: 'a CloudTrail file',
    toItem: (record) => {
      const { category, outcome } = classifyCloudTrail(record);
      return {
        event: record,
        time: typeof record.eventTime === 'string' ? record.eventTime : undefined,
        fields: { category, outcome },
      };
    },
    // CloudTrail writes global service events to more than one file; eventID is unique per account.
    dedupKey: (event) =>
      typeof event.eventID === 'string' ? `${typeof event.recipientAccountId === 'string' ? event.recipientAccountId : ''}/${event.eventID}` : undefined,
  });
}

export const cloudtrailFormat = createCloudTrailFormat();
