/**
 * The only importer of better-sqlite3 (with state/sqlite/): opens the state file and composes the
 * store of each concern — source state, markers, ledger, dedup keys, leases, digest checks, jobs — over one connection.
 */
import type { Store } from './types.js';
import { Connection, type StoreOptions } from './sqlite/connection.js';
import { SqliteSourceStateStore } from './sqlite/source-state.js';
import { SqliteMarkerStore } from './sqlite/markers.js';
import { SqliteLedgerStore } from './sqlite/ledger.js';
import { SqliteDedupStore } from './sqlite/dedup-keys.js';
import { SqliteLeaseStore } from './sqlite/leases.js';
import { SqliteDigestCheckStore } from './sqlite/digest-checks.js';
import { SqliteJobStore } from './sqlite/jobs.js';

export type { StoreOptions };

export function openSqliteStore(file: string, options: StoreOptions = {}): Store {
  const conn = Connection.open(file, options);
  return Object.assign(
    { close: () => conn.close() },
    boundMethods(new SqliteSourceStateStore(conn)),
    boundMethods(new SqliteMarkerStore(conn)),
    boundMethods(new SqliteLedgerStore(conn)),
    boundMethods(new SqliteDedupStore(conn)),
    boundMethods(new SqliteLeaseStore(conn)),
    boundMethods(new SqliteDigestCheckStore(conn)),
    boundMethods(new SqliteJobStore(conn)),
  );
}

/** The public methods of a store, bound to it, so that they can be spread into one object. */
function boundMethods<T extends object>(store: T): T {
  const bound: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const method = (store as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    bound[name] = (method as (...args: unknown[]) => unknown).bind(store);
  }
  return bound as T;
}
