/**
 * Where the benchmarks are, whether they run compiled (`dist-bench/`, as `npm run bench` does,
 * so that tsx's own memory and CPU are not measured) or from source through tsx.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = fileURLToPath(import.meta.url).endsWith('.js');

/** The project's root: the nearest folder above that holds package.json. */
export const root = (() => {
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${here}`);
  }
})();

/** A work folder of a benchmark, always under the source's bench/ (git ignores bench/.data*). */
export function workDir(name: string): string {
  return path.join(root, 'bench', name);
}

/**
 * The node arguments that run another benchmark script (`run-s3pull`) the way this one runs;
 * s3pull's own runs (run-s3pull, run-format) get the V8 flags that bin/s3pull starts the service with.
 */
export function script(name: string): string[] {
  const flags = name === 'run-s3pull' || name === 'run-format' ? shippedNodeFlags() : [];
  return compiled ? [...flags, path.join(here, `${name}.js`)] : [...flags, '--import', 'tsx', path.join(here, `${name}.ts`)];
}

/** The node flags on bin/s3pull's first line (`#!/usr/bin/env -S node --flag …`). */
function shippedNodeFlags(): string[] {
  const shebang = readFileSync(path.join(root, 'bin', 's3pull'), 'utf8').split('\n', 1)[0]!;
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}
