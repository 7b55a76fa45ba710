import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfigOrExplain, type GlobalOptions } from './context.js';
import { describeOutput } from '../sinks/describe.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check the configuration and list every problem; exits 2 on any')
    .action((_options: unknown, command: Command) => {
      const config = loadConfigOrExplain(command.optsWithGlobals<GlobalOptions>());
      for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
      // Only here: run and once make the folder; a check before the first start should say so.
      const stateDir = path.dirname(config.collector.state);
      if (!existsSync(stateDir)) process.stderr.write(`warning: state ${config.collector.state}: the folder ${stateDir} does not exist yet; s3pull makes it at the first poll (install.sh makes it with the right owner)\n`);
      const enabled = config.sources.filter((source) => source.enabled);
      process.stdout.write(
        `configuration OK: ${config.dir}\n  output: ${describeOutput(config.collector.output)}\n${Object.entries(config.collector.outputs).map(([name, output]) => `  output ${name} (for replays): ${describeOutput(output)}\n`).join('')}  state: ${config.collector.state}\n  sources: ${config.sources.length} (${enabled.length} enabled)\n`,
      );
      for (const source of config.sources) {
        const when = source.schedule ? `cron "${source.schedule}"` : `every ${(source.recurrence ?? 0) / 60_000} min`;
        process.stdout.write(`    ${source.id}: s3://${source.bucket}/${source.prefix} ${source.format}, ${when}${source.enabled ? '' : ' (disabled)'}\n`);
      }
    });
}
