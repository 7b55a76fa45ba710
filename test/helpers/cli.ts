/** Runs the real CLI (from source, through tsx) as a child process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './source.js';
import { motoEndpoint } from './moto.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = path.join(root, 'src', 'cli', 'main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the process had not ended within the bound and was killed: a hang. */
  hung: boolean;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** A process still running after this is killed and reported as hung (the default: 50 s). */
  boundMs?: number;
  uid?: number;
  gid?: number;
  /** Closes the reading end of stdout at once, as `| head` does once it has its lines. */
  closeStdout?: boolean;
}

function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
  });
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  let hung = false;
  if (options.closeStdout) child.stdout!.destroy();
  else child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const bound = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, options.boundMs ?? 50_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(bound);
  return { code, stdout, stderr, hung };
}

/** A long-running CLI (run) whose log lines can be awaited. */
export class RunningCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private waiters: { found: () => boolean }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], options: CliOptions = {}) {
    this.child = spawnCli(args, options);
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      this.check();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.check();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The exit code (or the signal that ended it), or 'hung' when it has not ended within `boundMs` (it is then killed). */
  async exitWithin(boundMs: number): Promise<number | string | null | 'hung'> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve('hung');
      }, boundMs);
    });
    const ended = new Promise<number | string | null>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve(this.child.exitCode ?? this.child.signalCode);
      else this.child.once('exit', (code, signal) => resolve(code ?? signal));
    });
    const result = await Promise.race([ended, hung]);
    clearTimeout(timer);
    return result;
  }

  /** Resolves when a log line matching `pattern` appears after position `from` of the log. */
  waitFor(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitUntil(`a log line matching ${pattern}`, from, timeoutMs, () => this.stderr.slice(from).match(pattern));
  }

  /**
   * Resolves when `text` has appeared `count` times after position `from` of the log. Counted,
   * not matched by one pattern: a pattern repeated `count` times backtracks exponentially while
   * fewer lines have come, and a test process busy in it stops reading the child's log (which
   * then blocks, looking like a stall of s3pull itself).
   */
  waitForCount(text: string, count: number, from = 0, timeoutMs = 60_000): Promise<number> {
    let seen = 0;
    let position = from;
    return this.waitUntil(`${count} log lines with "${text}"`, from, timeoutMs, () => {
      for (let at = this.stderr.indexOf(text, position); at !== -1 && seen < count; at = this.stderr.indexOf(text, position)) {
        seen += 1;
        position = at + text.length;
      }
      return seen >= count ? seen : null;
    });
  }

  /** Resolves when what the command printed (stdout) after position `from` matches `pattern`. */
  waitForOutput(pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitUntil(`output matching ${pattern}`, from, timeoutMs, () => this.stdout.slice(from).match(pattern));
  }

  private waitUntil<T>(what: string, from: number, timeoutMs: number, find: () => T | null): Promise<T> {
    return new Promise((resolve, reject) => {
      // A line that never comes fails with the log, rather than as a bare mocha timeout.
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs / 1000} s:\n${this.stderr.slice(from)}`)), timeoutMs);
      const found = () => {
        const result = find();
        if (result === null) return false;
        clearTimeout(timer);
        resolve(result);
        return true;
      };
      if (found()) return;
      this.waiters.push({ found });
      void this.exited.then((code) => reject(new Error(`s3pull exited (${code}) before logging ${what}:\n${this.stderr}`)));
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((waiter) => !waiter.found());
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

/** The trail source of the CLI tests, on moto, as an operator would write it (a literal secret that must never be logged). */
export function sourceYaml(extra = ''): string {
  return `id: trail
bucket: trail-bucket
prefix: AWSLogs/111122223333/CloudTrail/us-east-1/
region: us-east-1
endpoint: ${motoEndpoint()}
path_style: true
auth: { type: access_key, access_key_id: AKIATESTKEY, secret_access_key: s3cr3t-do-not-log-me }
format: cloudtrail
${extra}`;
}
