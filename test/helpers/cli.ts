/** Runs the real CLI (from source, through tsx) as a child process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './source.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = path.join(root, 'src', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function runCli(args: string[]): Promise<CliResult> {
  const child = spawnCli(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}

/** A long-running CLI (run) whose log lines can be awaited. */
export class RunningCli {
  readonly child: ChildProcess;
  stderr = '';
  private waiters: { pattern: RegExp; from: number; resolve: (match: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawnCli(args);
    this.child.stdout!.resume();
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.check();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves when a log line matching `pattern` appears after position `from` of the log. */
  waitFor(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      // A line that never comes fails with the log, rather than as a bare mocha timeout.
      const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs / 1000} s:\n${this.stderr.slice(from)}`)), timeoutMs);
      this.waiters.push({
        pattern,
        from,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
      this.check();
      void this.exited.then((code) => reject(new Error(`s3pull exited (${code}) before logging ${pattern}:\n${this.stderr}`)));
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((waiter) => {
      const match = this.stderr.slice(waiter.from).match(waiter.pattern);
      if (match) waiter.resolve(match);
      return !match;
    });
  }
}

/** A config folder with one s3pull.yaml and the given sources (YAML text by file name). */
export function writeConfig(collector: string, sources: Record<string, string>): string {
  const dir = tempDir('s3pull-cli-');
  mkdirSync(path.join(dir, 'sources.d'));
  writeFileSync(path.join(dir, 's3pull.yaml'), collector);
  for (const [name, text] of Object.entries(sources)) writeFileSync(path.join(dir, 'sources.d', name), text);
  return dir;
}
