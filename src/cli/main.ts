/**
 * The entry point: parses the command line and maps results to exit codes. The only place that
 * calls process.exit.
 */
import { Command, CommanderError } from 'commander';
import { registerRun } from './run.js';
import { registerOnce } from './once.js';
import { registerValidate } from './validate.js';
import { registerSources } from './sources.js';
import { registerMarker } from './marker.js';
import { registerFailed } from './failed.js';
import { registerCerts } from './certs.js';
import { registerTest } from './test.js';
import { registerVerify } from './verify.js';
import { registerBackfill } from './backfill.js';
import { ExitCode } from './context.js';
import { redact } from '../log/logger.js';
import { S3PullError, errorMessage } from '../util/errors.js';
import { StateError } from '../state/state-errors.js';
import { refuseInsecureEnvironment } from '../net/trust.js';
import { FORMAT_NAMES } from '../config/schema.js';

refuseInsecureEnvironment();

// A reader that closed our stdout (`s3pull sources | head`) ends us as SIGPIPE ends other tools:
// quietly. Nothing undelivered is committed by an exit, so the stdout output loses nothing.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command()
  .name('s3pull')
  .description('Scheduled S3 log collector: pulls new log objects from S3, parses them into events and delivers each once.')
  .option('-c, --config <dir>', 'config folder holding s3pull.yaml and sources.d/ (default: $S3PULL_CONFIG or conf/)')
  .option('--log-level <level>', 'override log.level: error, warn, info or debug')
  .addHelpText(
    'after',
    `\nFormats (a source's format): ${FORMAT_NAMES.join(', ')}.\nOutputs (output.type in s3pull.yaml): stdout, file, syslog (tcp, tls, udp; RFC 5424 or 3164), http (ndjson, splunk_hec, elasticsearch).\nThe README documents every field, with examples in conf/examples/.`,
  )
  .showHelpAfterError()
  .exitOverride();

registerRun(program);
registerOnce(program);
registerValidate(program);
registerSources(program);
registerMarker(program);
registerFailed(program);
registerCerts(program);
registerTest(program);
registerVerify(program);
registerBackfill(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ExitCode) {
    if (error.message) process.stderr.write(`${error.message}\n`);
    process.exitCode = error.code;
  } else if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof S3PullError) {
    // Errors a user can cause are one line that says where and what to do, never a stack.
    process.stderr.write(`s3pull: ${redact(oneLine(error.message))}\n`);
    process.exitCode = error instanceof StateError ? 3 : 1;
  } else {
    const debug = process.argv.includes('--log-level=debug') || process.argv.join(' ').includes('--log-level debug');
    process.stderr.write(`s3pull: unexpected error: ${redact(oneLine(errorMessage(error)))}${debug ? `\n${redact((error as Error).stack ?? '')}` : ' (--log-level debug shows where)'}\n`);
    process.exitCode = 1;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
