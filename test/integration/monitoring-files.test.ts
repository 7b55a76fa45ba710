import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';

const monitoringDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../conf/monitoring');

/** The s3pull metric names a text refers to (a histogram's _bucket/_count/_sum as the histogram). */
function metricNamesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\b(s3pull_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b/g)].map((match) => match[1]!));
}

describe('the shipped alert rules and dashboard (conf/monitoring)', () => {
  it('promtool accepts the rules, and their unit tests pass (each alert fires when it should, not before)', () => {
    const check = spawnSync('promtool', ['check', 'rules', 's3pull-alerts.yaml'], { cwd: monitoringDir, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).to.equal(0);
    expect(check.stdout).to.match(/SUCCESS: 11 rules found/);
    const test = spawnSync('promtool', ['test', 'rules', 's3pull-alerts.test.yaml'], { cwd: monitoringDir, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).to.equal(0);
  });

  it('every s3pull metric the rules and the dashboard name is one s3pull exposes', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const metrics = createMetrics({ sources: () => [], store, now: () => Date.now(), nextRunMs: () => null });
      const exposed = new Set([...(await metrics.text()).matchAll(/^# TYPE (s3pull_[a-z0-9_]+) /gm)].map((match) => match[1]!));
      const rules = readFileSync(path.join(monitoringDir, 's3pull-alerts.yaml'), 'utf8');
      const dashboard = readFileSync(path.join(monitoringDir, 's3pull-dashboard.json'), 'utf8');
      const named = new Set([...metricNamesIn(rules), ...metricNamesIn(dashboard)]);
      // Each histogram or counter named with its suffix reads as its family.
      const missing = [...named].filter((name) => !exposed.has(name) && !exposed.has(name.replace(/_(bucket|count|sum)$/, '')));
      expect(missing).to.deep.equal([]);
      expect(named.size).to.be.greaterThan(20);
    } finally {
      store.close();
    }
  });
});
