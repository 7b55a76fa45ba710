/**
 * Loads `s3pull.yaml` and `sources.d/*.yaml` from one folder, resolves references, validates
 * against the schema and reports every problem at once as `file: field <value>: reason`.
 */
import { readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { collectorSchema, sourceSchema, type CollectorConfig, type ProxyServerConfig, type SourceConfig } from './schema.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { ConfigError } from '../util/errors.js';
import { loadTrustStore, type TrustStore } from '../net/trust.js';
import { formatBytes, readFileCapped } from '../util/fs.js';

/** A config file is a few hundred bytes; anything this large is a mistake, and is not parsed. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
/** A value shown in an error is cut to this, so that a huge value never floods the terminal. */
const MAX_SHOWN_VALUE = 120;

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
  const collectorYaml = existsSync(collectorFile) ? readYaml(collectorFile, problems) : { value: {} };
  const collectorRaw = collectorYaml?.value;
  const collectorParsed = validate(collectorSchema, collectorYaml, collectorFile, absoluteDir, env, problems);
  const collectorLiterals = literalSecretFields(collectorRaw);
  if (collectorLiterals.length > 0 && existsSync(collectorFile) && (statSync(collectorFile).mode & 0o004) !== 0) {
    warnings.push(`${relative(collectorFile)}: holds a literal secret (${collectorLiterals.join(', ')}) and is readable by every user; use \${env:NAME} or \${file:PATH}, or chmod o-r ${relative(collectorFile)}`);
  }

  const sourcesDir = path.join(absoluteDir, 'sources.d');
  const sourceFiles = existsSync(sourcesDir) && statSync(sourcesDir).isDirectory()
    ? readdirSync(sourcesDir)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort()
        .map((name) => path.join(sourcesDir, name))
    : [];
  if (!existsSync(sourcesDir)) warnings.push(`${relative(sourcesDir)}: the folder does not exist, so there is no source to pull; add one YAML file per source there`);
  else if (!statSync(sourcesDir).isDirectory()) problems.push(`${relative(sourcesDir)}: is a file; sources.d must be a folder holding one YAML file per source`);

  const parsedSources: (SourceConfig & { file: string })[] = [];
  const firstFileOfId = new Map<string, string>();
  for (const file of sourceFiles) {
    const yaml = readYaml(file, problems);
    if (yaml === undefined) continue;
    const raw = yaml.value;
    const source = validate(sourceSchema, yaml, file, absoluteDir, env, problems);
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

  if (existsSync(sourcesDir) && sourceFiles.length === 0 && statSync(sourcesDir).isDirectory()) {
    warnings.push(`${relative(sourcesDir)}: holds no source (*.yaml), so there is nothing to pull`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const collector = collectorParsed!;
  const sources: LoadedSource[] = parsedSources.map((source) => ({
    ...source,
    proxy: source.proxy ?? collector.proxy ?? 'none',
    // A key file is named relative to the configuration directory, wherever s3pull runs from.
    ...(source.cloudtrail?.public_key_file ? { cloudtrail: { ...source.cloudtrail, public_key_file: path.resolve(absoluteDir, source.cloudtrail.public_key_file) } } : {}),
  }));
  return {
    dir: absoluteDir,
    collector: {
      ...collector,
      // Paths in s3pull.yaml are relative to the config folder, so that a config works from any cwd.
      state: path.resolve(absoluteDir, collector.state),
      certs_dir: path.resolve(absoluteDir, collector.certs_dir),
      output: resolveOutputPaths(collector.output, absoluteDir),
      outputs: Object.fromEntries(Object.entries(collector.outputs).map(([name, output]) => [name, resolveOutputPaths(output, absoluteDir)])),
    },
    sources,
    warnings,
    trust,
  };
}

interface YamlFile {
  value: unknown;
  /** The line a field (or, with `key`, a key inside it) is written on. */
  lineOf?: (at: (string | number)[], key?: string) => number | undefined;
}

function readYaml(file: string, problems: string[]): YamlFile | undefined {
  let text: string;
  try {
    text = readFileCapped(file, MAX_CONFIG_FILE_BYTES).toString('utf8');
  } catch (error) {
    problems.push(`${relative(file)}: ${unreadable(error)}`);
    return undefined;
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: true, lineCounter });
  if (document.errors.length > 0) {
    // One mistake often makes a cascade; the first few say where it is.
    for (const error of document.errors.slice(0, 3)) {
      const line = error.linePos?.[0];
      problems.push(`${relative(file)}${line ? `:${line.line}:${line.col}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`);
    }
    return undefined;
  }
  let value: unknown;
  try {
    // yaml refuses documents whose aliases expand without bound ("billion laughs").
    value = document.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (error) {
    problems.push(`${relative(file)}: invalid YAML: ${(error as Error).message}`);
    return undefined;
  }
  if (value === null || value === undefined) return { value: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${relative(file)}: the file must hold a mapping of fields (key: value)`);
    return undefined;
  }
  return { value, lineOf: (at, key) => lineOf(document, lineCounter, at, key) };
}

function lineOf(document: Document, lineCounter: LineCounter, at: (string | number)[], key?: string): number | undefined {
  const node = at.length === 0 ? document.contents : document.getIn(at, true);
  if (key !== undefined) {
    if (!isMap(node)) return undefined;
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    const range = isScalar(pair?.key) ? pair.key.range : undefined;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  }
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? lineCounter.linePos(range[0]).line : undefined;
}

function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return 'is a folder, not a file; sources.d holds one YAML file per source';
  if (code === 'EFBIG') return `is larger than ${formatBytes(MAX_CONFIG_FILE_BYTES)}; a config file holds a few fields, not data`;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied); the user s3pull runs as needs read access';
  return `cannot be read (${code ?? (error as Error).message})`;
}

function validate<S extends z.ZodType>(
  schema: S,
  yaml: YamlFile | undefined,
  file: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
): z.output<S> | undefined {
  if (yaml === undefined) return undefined;
  const raw = yaml.value;
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
          ? issue.code === 'custom' ? issue.message : 'is required'
          : issue.message;
    if (issue.code === 'unrecognized_keys') {
      const line = yaml.lineOf?.(at, issue.keys[0]);
      const inside = at.length === 0 ? '' : ` field ${fieldName(at)}:`;
      problems.push(`${relative(file)}${line ? `:${line}` : ''}:${inside} ${message}`);
      continue;
    }
    problems.push(`${relative(file)}: field ${fieldName(at)}${shown}: ${message}`);
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
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}… (${text.length} characters)` : text;
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
