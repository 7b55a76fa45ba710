/**
 * A state file written by an earlier s3pull (schema 5: the ledger keyed by source and key) is
 * migrated in place when it is opened: every row keeps its progress and takes its source's bucket.
 */
import { expect } from 'chai';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers/source.js';
import { MIGRATIONS } from '../../src/state/schema.js';
import { openSqliteStore } from '../../src/state/sqlite-store.js';

describe('state file migration', () => {
  it('a reader (sources, verify) refuses a file of an older schema with one line saying what upgrades it, and leaves it as it was', () => {
    const file = path.join(tempDir(), 'state.db');
    const old = new Database(file);
    for (const [index, migration] of MIGRATIONS.slice(0, 10).entries()) {
      old.exec(migration);
      old.pragma(`user_version = ${index + 1}`);
    }
    old.close();
    expect(() => openSqliteStore(file, { readonly: true })).to.throw(/written by an older s3pull \(schema 10; this one: \d+\): it is upgraded when `s3pull run` or `s3pull once` next starts/);
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).to.equal(10);
    after.close();
    // A writer upgrades it; a reader then opens it.
    openSqliteStore(file).close();
    openSqliteStore(file, { readonly: true }).close();
  });

  it('schema 5 → now: the ledger is keyed by bucket, rows keep their progress and status, markers stay', () => {
    const file = path.join(tempDir(), 'state.db');
    const old = new Database(file);
    for (const [index, migration] of MIGRATIONS.slice(0, 5).entries()) {
      old.exec(migration);
      old.pragma(`user_version = ${index + 1}`);
    }
    const scope = JSON.stringify({ endpoint: 'aws', bucket: 'trail-bucket', prefix: 'AWSLogs/' });
    old.prepare('INSERT INTO sources (source_id, scope, created_ms, objects_done, events) VALUES (?, ?, 0, 1, 1200)').run('trail', scope);
    old.prepare("INSERT INTO partitions (source_id, prefix, settled_key) VALUES ('trail', 'AWSLogs/p/', 'AWSLogs/p/2026/11/23/a.json.gz')").run();
    const insert = old.prepare(
      "INSERT INTO objects (source_id, key, partition, etag, size, last_modified_ms, status, events, bad_lines, duplicates, attempts, first_seen_ms, updated_ms) VALUES ('trail', ?, 'AWSLogs/p/', 'e', 10, 0, ?, ?, 0, 0, ?, 0, 0)",
    );
    insert.run('AWSLogs/p/2026/11/23/a.json.gz', 'done', 700, 0);
    insert.run('AWSLogs/p/2026/11/23/b.json.gz', 'in_progress', 500, 1);
    insert.run('AWSLogs/p/2026/11/23/c.json.gz', 'failed', 0, 5);
    old.close();

    const store = openSqliteStore(file);
    const keys = ['a', 'b', 'c'].map((name) => `AWSLogs/p/2026/11/23/${name}.json.gz`);
    const rows = store.ledger('trail', 'trail-bucket', keys);
    expect([...rows.values()].map((row) => [row.bucket, row.status, row.events, row.attempts])).to.deep.equal([
      ['trail-bucket', 'done', 700, 0],
      ['trail-bucket', 'in_progress', 500, 1],
      ['trail-bucket', 'failed', 0, 5],
    ]);
    expect(store.ledger('trail', 'other-bucket', keys).size).to.equal(0);
    expect(store.partitions('trail')[0]).to.include({ settledKey: keys[0] });
    expect(store.getSource('trail')).to.include({ scope, objectsDone: 1, events: 1200 });
    expect(store.getSource('trail')!.queue).to.equal(null);
    store.close();
    const reopened = new Database(file, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).to.equal(MIGRATIONS.length);
    reopened.close();
  });
});
