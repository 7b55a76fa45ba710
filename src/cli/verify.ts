/**
 * `s3pull verify SOURCE [--since DATE]`: what the trail's own digest files prove about what the
 * source delivered (src/digest/). Exits 1 when anything is wrong: a listed log file not
 * delivered, a hash mismatch, a gap in the chain, a bad signature, an unreadable digest.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultBucketFactory } from '../service/collector.js';
import type { KeyObject } from 'node:crypto';
import type { LoadedConfig, LoadedSource } from '../config/load.js';
import { listPublicKeys } from '../aws/cloudtrail-keys.js';
import { publicKeysFromFile } from '../digest/signature.js';
import { hasProblems, verifySource, type VerifyReport } from '../digest/verify-source.js';
import type { Finding } from '../digest/verify.js';
import { emit } from '../telemetry/events.js';
import { errorMessage } from '../util/errors.js';
import { findSource, loadConfigOrExplain, loggerFor, openStore, ExitCode, type GlobalOptions } from './context.js';
import { table } from './summary.js';

const DAY_MS = 86_400_000;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .argument('<source>', 'a CloudTrail source with cloudtrail.digests: verify')
    .option('--since <date>', 'check the digests of hours that ended since this time (ISO 8601, such as 2026-11-20 or 2026-11-20T08:00Z; default: 24 hours ago)')
    .option('--json', 'print the report as JSON')
    .description("check a CloudTrail source against the trail's digest files: every listed log file delivered, with the SHA-256 CloudTrail recorded; the digests chained and signed. Exit 1 on any problem")
    .action(async (id: string, options: { since?: string; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfigOrExplain(globals);
      const source = findSource(config, id);
      if (source.format !== 'cloudtrail' || source.cloudtrail?.digests !== 'verify') {
        process.stderr.write(`s3pull verify: ${id} does not verify digests: it needs format: cloudtrail and cloudtrail.digests: verify (${source.file})\n`);
        throw new ExitCode(2);
      }
      const now = Date.now();
      const sinceMs = options.since === undefined ? now - DAY_MS : Date.parse(options.since);
      if (Number.isNaN(sinceMs)) {
        process.stderr.write(`s3pull verify: --since ${options.since} is not a date (such as 2026-11-20 or 2026-11-20T08:00Z)\n`);
        throw new ExitCode(2);
      }
      // A key file is part of the configuration: read (and refused) before anything else.
      const fileKeys = keysFromFile(source, config);
      if (!existsSync(config.collector.state)) {
        process.stderr.write(`s3pull verify: ${id} has delivered nothing yet (no state file at ${config.collector.state})\n`);
        throw new ExitCode(1);
      }
      const keysFor = fileKeys ?? (await listedKeys(source, config, sinceMs, now));
      const log = loggerFor(config, globals).child({ source: id });
      const store = openStore(config, true);
      const bucket = defaultBucketFactory(source, config.trust.ca);
      let report: VerifyReport;
      try {
        report = await verifySource({ sourceId: id, store, bucket, keysFor, sinceMs, untilMs: now, signal: new AbortController().signal });
      } catch (error) {
        process.stderr.write(`s3pull verify: ${errorMessage(error)}\n`);
        throw new ExitCode(1);
      } finally {
        bucket.destroy();
        store.close();
      }
      for (const finding of report.findings) emit(log, 'digest_finding', { source: id, finding: finding.kind, digest: finding.digest, key: 'key' in finding ? finding.key : undefined, detail: describe(finding) });
      for (const unreadable of report.unreadable) emit(log, 'digest_finding', { source: id, finding: 'unreadable', digest: unreadable.key, detail: unreadable.reason });
      const problems = report.findings.length + report.unreadable.length;
      emit(log, 'digests_verified', { source: id, digests: report.digests, files_listed: report.filesListed, files_delivered: report.filesDelivered, problems });
      if (options.json) process.stdout.write(`${JSON.stringify({ source: id, since: new Date(sinceMs).toISOString(), ...report }, null, 2)}\n`);
      else process.stdout.write(summary(id, sinceMs, report));
      if (hasProblems(report)) throw new ExitCode(1);
    });
}

type KeysFor = (fingerprint: string) => readonly KeyObject[];

/** The keys of `cloudtrail.public_key_file`, all of them candidates for every digest; undefined without one. */
function keysFromFile(source: LoadedSource, config: LoadedConfig): KeysFor | undefined {
  const file = source.cloudtrail?.public_key_file;
  if (file === undefined) return undefined;
  const keyFile = path.resolve(config.dir, file);
  try {
    const keys = publicKeysFromFile(readFileSync(keyFile, 'utf8'), keyFile);
    return () => keys;
  } catch (error) {
    process.stderr.write(`s3pull verify: cloudtrail.public_key_file: ${errorMessage(error)}\n`);
    throw new ExitCode(2);
  }
}

/** The keys ListPublicKeys gives for the span, by fingerprint. */
async function listedKeys(source: LoadedSource, config: LoadedConfig, sinceMs: number, untilMs: number): Promise<KeysFor> {
  const options = source.cloudtrail!;
  try {
    // A digest of the first hour may be signed with a key that was retired since: a day's margin.
    const keys = await listPublicKeys(
      { region: source.region, endpoint: options.endpoint, auth: source.auth, proxy: source.proxy, ca: config.trust.ca, requestTimeoutMs: source.request_timeout, sourceId: source.id },
      sinceMs - DAY_MS,
      untilMs,
      new AbortController().signal,
    );
    return (fingerprint) => keys.get(fingerprint.toLowerCase()) ?? [];
  } catch (error) {
    process.stderr.write(`s3pull verify: cloudtrail:ListPublicKeys failed (${errorMessage(error)}): allow it to the source's credentials, or give the keys in cloudtrail.public_key_file\n`);
    throw new ExitCode(1);
  }
}

function count(report: VerifyReport, kind: Finding['kind']): number {
  return report.findings.filter((finding) => finding.kind === kind).length;
}

function summary(id: string, sinceMs: number, report: VerifyReport): string {
  const rows: [string, string][] = [
    ['digests checked', String(report.digests)],
    ['log files listed', String(report.filesListed)],
    ['log files delivered', String(report.filesDelivered)],
    ['not delivered', String(count(report, 'missing'))],
    ['hash mismatches', String(count(report, 'hash_mismatch'))],
    ['delivered before hashing was on', String(count(report, 'unhashed'))],
    ['chain gaps', String(count(report, 'chain_gap'))],
    ['bad signatures', String(count(report, 'bad_signature'))],
    ['unreadable digests', String(report.unreadable.length)],
  ];
  let text = `${id}: CloudTrail digests of hours ended since ${new Date(sinceMs).toISOString()} (${report.partitions.length} partition(s))\n\n`;
  text += table(['CHECK', 'COUNT'], rows);
  const lines = [...report.findings.map(describe), ...report.unreadable.map((item) => `unreadable digest ${item.key}: ${item.reason}`)];
  if (lines.length > 0) text += `\n${lines.join('\n')}\n`;
  else if (report.digests === 0) text += '\nno digest found in that span: is log file validation on for the trail?\n';
  else text += '\nall listed log files were delivered as CloudTrail wrote them; the digests are chained and signed\n';
  return text;
}

function describe(finding: Finding): string {
  switch (finding.kind) {
    case 'missing':
      return `not delivered: ${finding.bucket}/${finding.key} (listed by ${finding.digest})`;
    case 'hash_mismatch':
      return `HASH MISMATCH: ${finding.bucket}/${finding.key}: delivered bytes have SHA-256 ${finding.found}, CloudTrail recorded ${finding.expected} (${finding.digest})`;
    case 'unhashed':
      return `not checked: ${finding.bucket}/${finding.key} was delivered before cloudtrail.digests: verify was set (${finding.digest})`;
    case 'chain_gap':
      return `CHAIN GAP ${finding.from} – ${finding.to}: ${finding.digest}: ${finding.reason}`;
    case 'bad_signature':
      return `BAD SIGNATURE: ${finding.digest}: ${finding.reason}`;
  }
}
