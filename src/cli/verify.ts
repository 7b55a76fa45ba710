/**
 * `s3pull verify SOURCE [--since DATE]`: what the trail's own digest files prove about what the
 * source delivered (src/digest/). Exits 1 when anything is wrong: a listed log file not
 * delivered, a hash mismatch, a gap in the chain, a bad signature, an unreadable digest.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { defaultBucketFactory } from '../service/collector.js';
import { keysFromFile, publicKeysFor, type KeysFor } from '../digest/public-keys.js';
import { problemCount, verifySource, type VerifyReport } from '../digest/verify-source.js';
import type { Finding } from '../digest/verify.js';
import { describeFinding } from '../digest/digest-poll.js';
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
      let fileKeys: KeysFor | undefined;
      try {
        fileKeys = keysFromFile(source);
      } catch (error) {
        process.stderr.write(`s3pull verify: ${errorMessage(error)}\n`);
        throw new ExitCode(2);
      }
      if (!existsSync(config.collector.state)) {
        process.stderr.write(`s3pull verify: ${id} has delivered nothing yet (no state file at ${config.collector.state})\n`);
        throw new ExitCode(1);
      }
      let keysFor: KeysFor;
      try {
        keysFor = fileKeys ?? (await publicKeysFor(source, config.trust.ca, sinceMs, now, new AbortController().signal));
      } catch (error) {
        process.stderr.write(`s3pull verify: ${errorMessage(error)}\n`);
        throw new ExitCode(1);
      }
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
      for (const finding of report.findings) emit(log, 'digest_finding', { source: id, finding: finding.kind, digest: finding.digest, key: 'key' in finding ? finding.key : undefined, detail: describeFinding(finding) });
      for (const unreadable of report.unreadable) emit(log, 'digest_finding', { source: id, finding: 'unreadable', digest: unreadable.key, detail: unreadable.reason });
      const problems = problemCount(report);
      emit(log, 'digests_verified', { source: id, digests: report.digests, files_listed: report.filesListed, files_delivered: report.filesDelivered, problems });
      if (options.json) process.stdout.write(`${JSON.stringify({ source: id, since: new Date(sinceMs).toISOString(), ...report }, null, 2)}\n`);
      else process.stdout.write(summary(id, sinceMs, report));
      if (problems > 0) throw new ExitCode(1);
    });
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
  const lines = [...report.findings.map(describeFinding), ...report.unreadable.map((item) => `unreadable digest ${item.key}: ${item.reason}`)];
  if (lines.length > 0) text += `\n${lines.join('\n')}\n`;
  else if (report.digests === 0) text += '\nno digest found in that span: is log file validation on for the trail?\n';
  else text += '\nall listed log files were delivered as CloudTrail wrote them; the digests are chained and signed\n';
  return text;
}
