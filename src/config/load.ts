/**
 * Loads `s3pull.yaml` and `sources.d/*.yaml` from one folder, resolves references, validates
 * against the schema and reports every problem at once as `file: field <value>: reason`.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { collectorSchema, sourceSchema, type CollectorConfig, type ProxyServerConfig, type SourceConfig } from './schema.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { ConfigError } from '../util/errors.js';
import { loadTrustStore, type TrustStore } from '../net/trust.js';

export interface LoadedSource extends Omit<SourceConfig, 'proxy'> {
  /** The file the source came from, for messages. */
  file: string;
  /** The proxy in effect: the source's own, else the collector's default; `none` goes direct. */
  proxy: ProxyServerConfig | 'none';
}

export interface LoadedConfig {
  dir: string;
  collector: CollectorConfig;
  sources: LoadedSource[];
  /** Things that work but deserve the operator's eye. */
  warnings: string[];
  /** Node's roots plus the certificates in certs_dir. */
  trust: TrustStore;
}

export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.S3PULL_CONFIG ?? 'conf';
}

const SECRET_FIELD = /secret|password|token/i;

export function loadConfig(dir: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const absoluteDir = path.resolve(dir);
  const problems: string[] = [];
  const warnings: string[] = [];

  if (!existsSync(absoluteDir) || !statSync(absoluteDir).isDirectory()) {
    throw new ConfigError([`${absoluteDir}: the config folder does not exist (set --config DIR or S3PULL_CONFIG)`]);
  }

  const collectorFile = path.join(absoluteDir, 's3pull.yaml');
  const collectorRaw = existsSync(collectorFile) ? readYaml(collectorFile, problems) : {};
  const collectorParsed = validate(collectorSchema, collectorRaw, collectorFile, absoluteDir, env, problems);
  const collectorLiterals = literalSecretFields(collectorRaw);
  if (collectorLiterals.length > 0 && existsSync(collectorFile) && (statSync(collectorFile).mode & 0o004) !== 0) {
    warnings.push(`${relative(collectorFile)}: holds a literal secret (${collectorLiterals.join(', ')}) and is readable by every user; use \${env:NAME} or \${file:PATH}, or chmod o-r ${relative(collectorFile)}`);
  }

  const sourcesDir = path.join(absoluteDir, 'sources.d');
  const sourceFiles = existsSync(sourcesDir)
    ? readdirSync(sourcesDir)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort()
        .map((name) => path.join(sourcesDir, name))
    : [];

  const parsedSources: (SourceConfig & { file: string })[] = [];
  const firstFileOfId = new Map<string, string>();
  for (const file of sourceFiles) {
    const raw = readYaml(file, problems);
    if (raw === undefined) continue;
    const source = validate(sourceSchema, raw, file, absoluteDir, env, problems);
    if (!source) continue;
    const earlier = firstFileOfId.get(source.id);
    if (earlier) {
      problems.push(`${relative(file)}: field id <${source.id}>: is already used by ${relative(earlier)}; ids must be unique`);
      continue;
    }
    firstFileOfId.set(source.id, file);
    const literal = literalSecretFields(raw);
    if (literal.length > 0 && (statSync(file).mode & 0o004) !== 0) {
      warnings.push(`${relative(file)}: holds a literal secret (${literal.join(', ')}) and is readable by every user; use \${env:NAME} or \${file:PATH}, or chmod o-r ${relative(file)}`);
    }
    if (source.endpoint?.startsWith('http://') && !isLoopback(source.endpoint)) {
      warnings.push(`${relative(file)}: field endpoint <${source.endpoint}>: plain http sends requests unencrypted`);
    }
    parsedSources.push({ ...source, file });
  }

  const certsDir = path.resolve(absoluteDir, collectorParsed?.certs_dir ?? 'certs');
  const trust = loadTrustStore(certsDir, problems);
  for (const certificate of trust.extra) {
    if (certificate.validTo.getTime() < Date.now()) warnings.push(`${certificate.file}: the certificate ${certificate.subject} expired on ${certificate.validTo.toISOString()}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const collector = collectorParsed!;
  const sources: LoadedSource[] = parsedSources.map((source) => ({ ...source, proxy: source.proxy ?? collector.proxy ?? 'none' }));
  return {
    dir: absoluteDir,
    collector: {
      ...collector,
      // Paths in s3pull.yaml are relative to the config folder, so that a config works from any cwd.
      state: path.resolve(absoluteDir, collector.state),
      certs_dir: path.resolve(absoluteDir, collector.certs_dir),
      output: resolveOutputPaths(collector.output, absoluteDir),
    },
    sources,
    warnings,
    trust,
  };
}

function readYaml(file: string, problems: string[]): unknown {
  const text = readFileSync(file, 'utf8');
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const line = error.linePos?.[0];
      problems.push(`${relative(file)}${line ? `:${line.line}:${line.col}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`);
    }
    return undefined;
  }
  const value = document.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${relative(file)}: the file must hold a mapping of fields (key: value)`);
    return undefined;
  }
  return value;
}

function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  file: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): z.output<S> | undefined {
  if (raw === undefined) return undefined;
  const referenceProblems: InterpolationProblem[] = [];
  const resolved = interpolate(raw, { env, baseDir }, referenceProblems);
  for (const problem of referenceProblems) {
    problems.push(`${relative(file)}: field ${fieldName(problem.path)}: ${problem.message}`);
  }
  const result = schema.safeParse(resolved);
  if (result.success) return referenceProblems.length === 0 ? (result.data as z.output<S>) : undefined;
  const unresolved = new Set(referenceProblems.map((problem) => fieldName(problem.path)));
  for (const issue of result.error.issues) {
    const at = issue.path as (string | number)[];
    // A field whose reference did not resolve was reported already; its empty value says nothing new.
    if (unresolved.has(fieldName(at))) continue;
    const value = showValue(raw, at);
    const shown = issue.code === 'unrecognized_keys' ? '' : ` <${value}>`;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (check the spelling; see the configuration reference)`
        : value === 'missing'
          ? 'is required'
          : issue.message;
    const where = issue.code === 'unrecognized_keys' && at.length === 0 ? '' : ` field ${fieldName(at)}${shown}`;
    problems.push(`${relative(file)}:${where}: ${message}`);
  }
  return undefined;
}

/** The value as written in the file (before references resolve), with secrets masked. */
/** Secret-named fields written as values rather than `${env:}`/`${file:}` references. */
function literalSecretFields(raw: unknown, at: string[] = []): string[] {
  if (raw === null || typeof raw !== 'object') return [];
  return Object.entries(raw as Record<string, unknown>).flatMap(([key, value]) => {
    const here = [...at, key];
    if (typeof value === 'string' && SECRET_FIELD.test(key) && !/^\$\{(env|file):[^}]+\}$/.test(value)) return [here.join('.')];
    return literalSecretFields(value, here);
  });
}

function showValue(raw: unknown, at: (string | number)[]): string {
  let value: unknown = raw;
  for (const part of at) {
    if (value === null || typeof value !== 'object') return 'missing';
    value = (value as Record<string | number, unknown>)[part];
  }
  if (value === undefined) return 'missing';
  if (at.some((part) => SECRET_FIELD.test(String(part))) && typeof value === 'string' && !value.startsWith('${')) return '***';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function fieldName(at: (string | number)[]): string {
  return at.length === 0 ? '(top level)' : at.map(String).join('.');
}

function relative(file: string): string {
  const shown = path.relative(process.cwd(), file);
  return shown.startsWith('..') ? file : shown;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

function resolveOutputPaths(output: CollectorConfig['output'], dir: string): CollectorConfig['output'] {
  if (output.type === 'file') return { ...output, path: path.resolve(dir, output.path) };
  if (output.type === 'syslog' && output.tls) {
    const { cert, key } = output.tls;
    return { ...output, tls: { ...output.tls, ...(cert ? { cert: path.resolve(dir, cert) } : {}), ...(key ? { key: path.resolve(dir, key) } : {}) } };
  }
  return output;
}
