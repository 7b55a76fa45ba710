/**
 * Request bodies for the http output: plain NDJSON, Splunk HEC events, or the Elasticsearch bulk
 * API. Built from the envelope line by string assembly, without parsing events again.
 */
import type { HttpOutputConfig } from './options.js';
import { compileTemplate } from './template.js';
import { eventJson, type OutputRecord } from './types.js';

export interface Shape {
  contentType: string;
  /** The body lines of one record (each ends with "\n"). */
  encode(record: OutputRecord): string;
}

export function shapeFor(config: Pick<HttpOutputConfig, 'shape' | 'message' | 'splunk' | 'elasticsearch'>): Shape {
  const document = config.message === 'event' ? eventJson : (record: OutputRecord) => record.line;
  switch (config.shape) {
    case 'ndjson':
      return { contentType: 'application/x-ndjson', encode: (record) => `${document(record)}\n` };
    case 'splunk_hec': {
      const hostOf = compileTemplate(config.splunk.host);
      const sourcetypeOf = compileTemplate(config.splunk.sourcetype);
      const index = config.splunk.index === undefined ? '' : `,"index":${JSON.stringify(config.splunk.index)}`;
      return {
        contentType: 'application/json',
        encode: (record) => {
          const ms = Date.parse(record.time);
          // HEC takes epoch seconds with a fraction; an event without a time is stamped on arrival.
          const time = Number.isNaN(ms) ? '' : `"time":${(ms / 1000).toFixed(3)},`;
          return `{${time}"host":${JSON.stringify(hostOf(record))},"source":${JSON.stringify(record.source)},"sourcetype":${JSON.stringify(sourcetypeOf(record))}${index},"event":${document(record)}}\n`;
        },
      };
    }
    case 'elasticsearch': {
      const indexOf = compileTemplate(config.elasticsearch.index);
      return {
        contentType: 'application/x-ndjson',
        // `create` with the deterministic id: a batch sent again after a crash is refused as a
        // conflict instead of indexed twice, so Elasticsearch holds each event once.
        encode: (record) => `{"create":{"_index":${JSON.stringify(indexOf(record))},"_id":"${record.id}"}}\n${withTimestamp(document(record), record.time)}\n`,
      };
    }
  }
}

/** `@timestamp` first, as data streams require it. */
function withTimestamp(json: string, time: string): string {
  const stamp = `"@timestamp":${JSON.stringify(time)}`;
  return json === '{}' ? `{${stamp}}` : `{${stamp},${json.slice(1)}`;
}

export interface BulkOutcome {
  /** Positions (in the request) of items to send again: throttled or refused for a passing reason. */
  retry: number[];
  /** The first item refused for good (a mapping error), if any. */
  rejected?: { position: number; status: number; reason: string };
}

/** Reads a _bulk response: 201 created and 409 already there are delivered; 429 and 5xx go again. */
export function readBulkResponse(body: unknown): BulkOutcome {
  const outcome: BulkOutcome = { retry: [] };
  const response = body as { errors?: boolean; items?: Record<string, { status?: number; error?: { type?: string; reason?: string } }>[] };
  if (!response?.errors) return outcome;
  (response.items ?? []).forEach((item, position) => {
    const result = Object.values(item)[0];
    const status = result?.status ?? 0;
    if (status < 300 || status === 409) return;
    if (status === 429 || status >= 500) outcome.retry.push(position);
    else outcome.rejected ??= { position, status, reason: `${result?.error?.type ?? 'error'}: ${result?.error?.reason ?? 'no reason given'}` };
  });
  return outcome;
}
