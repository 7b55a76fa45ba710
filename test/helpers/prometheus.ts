/** A real Prometheus (Debian's package) on loopback, scraping targets the test names. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './moto.js';
import { tempDir } from './source.js';

export interface RunningPrometheus {
  url: string;
  /** The value of an instant PromQL query's first series, or undefined while it has none. */
  query(promql: string): Promise<number | undefined>;
  /** An instant query as Prometheus answered it: its status, its error if any, its series. */
  queryResult(promql: string): Promise<{ status: string; error?: string; result: { metric: Record<string, string>; value: [number, string] }[] }>;
  /** The loaded alerting rules with their health ("ok", "err", "unknown") and last error. */
  rules(): Promise<{ name: string; health: string; lastError?: string }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: string[], scrapeInterval = '1s', ruleFiles: string[] = []): Promise<RunningPrometheus> {
  const dir = tempDir('prometheus-');
  const config = path.join(dir, 'prometheus.yml');
  const rules = ruleFiles.length > 0 ? `rule_files: [${ruleFiles.map((f) => `'${f}'`).join(', ')}]\n` : '';
  writeFileSync(config, `global:\n  scrape_interval: ${scrapeInterval}\n  evaluation_interval: ${scrapeInterval}\n${rules}scrape_configs:\n  - job_name: s3pull\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`);
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await untilTrue(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true, 30_000, () => `prometheus did not become ready:\n${log}`);
  return {
    url,
    async query(promql) {
      const answer = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as { data: { result: { value: [number, string] }[] } };
      const first = answer.data.result[0];
      return first ? Number(first.value[1]) : undefined;
    },
    async queryResult(promql) {
      const answer = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return { status: answer.status, ...(answer.error ? { error: answer.error } : {}), result: answer.data?.result ?? [] };
    },
    async rules() {
      const answer = (await (await fetch(`${url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
      return answer.data.groups.flatMap((group) => group.rules.map(({ name, health, lastError }) => ({ name, health, ...(lastError ? { lastError } : {}) })));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Asks again every 250 ms until `check` holds, failing with `why()` past the deadline. */
export async function untilTrue(check: () => Promise<boolean>, withinMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
