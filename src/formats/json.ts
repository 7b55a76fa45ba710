import type { Format } from './types.js';
import { jsonDocumentFormat } from './json-document.js';
import { recordTime } from './typed.js';

export interface JsonFormatOptions {
  /** Dotted path of the records array ("data.items"); empty for a document that is an array. */
  recordsPath: string;
  /** Dotted path of each record's time; the usual names (timestamp, time, …) when absent. */
  timeField?: string | undefined;
}

/** Any JSON document holding an array of records, split record by record as it streams, like CloudTrail. */
export function jsonFormat(options: JsonFormatOptions): Format {
  const timeField = options.timeField?.split('.');
  return jsonDocumentFormat({
    name: 'json',
    recordsPath: options.recordsPath === '' ? [] : options.recordsPath.split('.'),
    kind: 'the JSON document the source describes',
    toItem: (record) => ({ event: record, time: recordTime(record, timeField) }),
  });
}
