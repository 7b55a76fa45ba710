import type { LeaseStore } from '../types.js';
import type { Connection } from './connection.js';

type LeaseAnswer = { held: true } | { held: false; owner: string; untilMs: number };

/**
 * A lease held in a row's lease_owner and lease_until_ms: a source's (one poller at a time) or a
 * job's (one run of a backfill at a time). Taken when free, expired, or the owner's already.
 */
export function acquireRowLease(conn: Connection, table: 'sources' | 'jobs', key: 'source_id' | 'job_id', id: string | number, owner: string, nowMs: number, untilMs: number): LeaseAnswer {
  return conn.run(() => {
    const result = conn
      .statement(`UPDATE ${table} SET lease_owner = @owner, lease_until_ms = @until WHERE ${key} = @id AND (lease_owner IS NULL OR lease_owner = @owner OR lease_until_ms < @now)`)
      .run({ id, owner, until: untilMs, now: nowMs });
    if (result.changes > 0) return { held: true as const };
    const lease = conn.statement<[string | number], { lease_owner: string | null; lease_until_ms: number | null }>(`SELECT lease_owner, lease_until_ms FROM ${table} WHERE ${key} = ?`).get(id);
    return { held: false as const, owner: lease?.lease_owner ?? 'unknown', untilMs: lease?.lease_until_ms ?? 0 };
  });
}

export function releaseRowLease(conn: Connection, table: 'sources' | 'jobs', key: 'source_id' | 'job_id', id: string | number, owner: string): void {
  conn.run(() => conn.statement(`UPDATE ${table} SET lease_owner = NULL, lease_until_ms = NULL WHERE ${key} = ? AND lease_owner = ?`).run(id, owner));
}

export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly conn: Connection) {}

  acquireLease(sourceId: string, owner: string, nowMs: number, untilMs: number): LeaseAnswer {
    return acquireRowLease(this.conn, 'sources', 'source_id', sourceId, owner, nowMs, untilMs);
  }

  releaseLease(sourceId: string, owner: string): void {
    releaseRowLease(this.conn, 'sources', 'source_id', sourceId, owner);
  }
}
