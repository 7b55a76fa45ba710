import type { FormatName } from '../config/schema.js';
import type { Format } from './types.js';
import { cloudtrailFormat } from './cloudtrail.js';
import { vpcflowFormat } from './vpcflow.js';
import { linesFormat } from './lines.js';
import { jsonlinesFormat } from './jsonlines.js';
import { albFormat } from './alb.js';
import { elbFormat } from './elb.js';
import { s3accessFormat } from './s3access.js';
import { w3cFormat } from './w3c.js';
import { networkfirewallFormat } from './networkfirewall.js';
import { wafFormat } from './waf.js';

const FORMATS: Record<FormatName, Format> = {
  cloudtrail: cloudtrailFormat,
  vpcflow: vpcflowFormat,
  lines: linesFormat,
  jsonlines: jsonlinesFormat,
  alb: albFormat,
  elb: elbFormat,
  s3access: s3accessFormat,
  w3c: w3cFormat,
  networkfirewall: networkfirewallFormat,
  waf: wafFormat,
};

export function formatFor(name: FormatName): Format {
  return FORMATS[name];
}

export type { Format, ParsedItem, FormatContext } from './types.js';
