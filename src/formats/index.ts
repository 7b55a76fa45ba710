import type { FormatOptions } from './options.js';
import type { Format } from './types.js';
import { cloudtrailFormat } from './cloudtrail.js';
import { vpcflowFormat, vpcflowWithFields } from './vpcflow.js';
import { linesFormat } from './lines.js';
import { jsonlinesWithTime } from './jsonlines.js';
import { albFormat } from './alb.js';
import { elbFormat } from './elb.js';
import { nlbFormat } from './nlb.js';
import { albConnectionFormat } from './alb-connection.js';
import { s3accessFormat } from './s3access.js';
import { w3cFormat } from './w3c.js';
import { cloudfrontRealtimeFormat } from './cloudfront-realtime.js';
import { networkfirewallFormat } from './networkfirewall.js';
import { wafFormat } from './waf.js';
import { guarddutyFormat } from './guardduty.js';
import { configFormat } from './config.js';
import { route53resolverFormat } from './route53resolver.js';
import { csvFormat } from './csv.js';
import { jsonFormat } from './json.js';
import { cloudWatchEnvelope } from './cloudwatch-envelope.js';

export type FormatConfig = Pick<FormatOptions, 'format' | 'records_path' | 'time_field' | 'csv' | 'vpcflow' | 'cloudfront_realtime' | 'envelope'>;

/** Just the format's options of a source: what a parse thread is given (never the credentials). */
export function formatConfigOf(source: FormatConfig): FormatConfig {
  return { format: source.format, records_path: source.records_path, time_field: source.time_field, csv: source.csv, vpcflow: source.vpcflow, cloudfront_realtime: source.cloudfront_realtime, envelope: source.envelope };
}

/** The format a source reads, with its options (records_path, time_field, csv, vpcflow, cloudfront_realtime), inside its envelope if any. */
export function formatFor(source: FormatConfig): Format {
  const format = bareFormatFor(source);
  return source.envelope === 'cloudwatch_logs' ? cloudWatchEnvelope(format) : format;
}

function bareFormatFor(source: FormatConfig): Format {
  switch (source.format) {
    case 'cloudtrail':
      return cloudtrailFormat;
    case 'vpcflow':
      return source.vpcflow?.fields ? vpcflowWithFields(source.vpcflow.fields) : vpcflowFormat;
    case 'lines':
      return linesFormat;
    case 'jsonlines':
      return jsonlinesWithTime(source.time_field);
    case 'alb':
      return albFormat;
    case 'alb_connection':
      return albConnectionFormat;
    case 'nlb':
      return nlbFormat;
    case 'elb':
      return elbFormat;
    case 's3access':
      return s3accessFormat;
    case 'w3c':
      return w3cFormat;
    case 'cloudfront_realtime':
      // The source schema requires the fields for this format.
      return cloudfrontRealtimeFormat(source.cloudfront_realtime?.fields ?? []);
    case 'networkfirewall':
      return networkfirewallFormat;
    case 'waf':
      return wafFormat;
    case 'guardduty':
      return guarddutyFormat;
    case 'config':
      return configFormat;
    case 'route53resolver':
      return route53resolverFormat;
    case 'csv':
      return csvFormat({ ...source.csv, delimiter: source.csv?.delimiter ?? ',', timeField: source.time_field });
    case 'json':
      return jsonFormat({ recordsPath: source.records_path ?? '', timeField: source.time_field });
  }
}

export type { Format, ParsedItem, FormatContext } from './types.js';
