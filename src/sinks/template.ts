import { hostname } from 'node:os';
import type { OutputRecord } from './types.js';

/**
 * Names in output templates (syslog HOSTNAME and APP-NAME, Splunk host and sourcetype,
 * Elasticsearch index): `{source}` the event's source name, `{source_id}`, `{format}`, `{host}`
 * this collector's host name, `{date}` the event's day as YYYY.MM.DD.
 */
export const TEMPLATE_FIELDS = ['source', 'source_id', 'format', 'host', 'date'] as const;
const PLACEHOLDER = /\{([a-z_]+)\}/g;

export function unknownTemplateFields(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!).filter((name) => !(TEMPLATE_FIELDS as readonly string[]).includes(name));
}

export type Template = (record: OutputRecord) => string;

export function compileTemplate(template: string, host = hostname()): Template {
  if (!template.includes('{')) return () => template;
  return (record) =>
    template.replace(PLACEHOLDER, (whole, name: string) => {
      switch (name) {
        case 'source':
          return record.source;
        case 'source_id':
          return record.sourceId;
        case 'format':
          return record.format;
        case 'host':
          return host;
        case 'date':
          return record.time.slice(0, 10).replaceAll('-', '.');
        default:
          return whole;
      }
    });
}
