import type { LeaseStore } from '../types.js';
import type { Connection } from './connection.js';

export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly conn: Connection) {}

  acquireLease(sourceId: string, owner: string, nowMs: number, untilMs: number): { held: true } | { held: false; owner: string; untilMs: number } {
    return this.conn.run(() => {
      const result = this.conn
        .statement(
          `UPDATE sources SET lease_owner = @owner, lease_until_ms = @until
           WHERE source_id = @source AND (lease_owner IS NULL OR lease_owner = @owner OR lease_until_ms < @now)`,
        )
        .run({ source: sourceId, owner, until: untilMs, now: nowMs });
      if (result.changes > 0) return { held: true as const };
      const lease = this.conn
        .statement<[string], { lease_owner: string | null; lease_until_ms: number | null }>('SELECT lease_owner, lease_until_ms FROM sources WHERE source_id = ?')
        .get(sourceId);
      return { held: false as const, owner: lease?.lease_owner ?? 'unknown', untilMs: lease?.lease_until_ms ?? 0 };
    });
  }

  releaseLease(sourceId: string, owner: string): void {
    this.conn.run(() => this.conn.statement('UPDATE sources SET lease_owner = NULL, lease_until_ms = NULL WHERE source_id = ? AND lease_owner = ?').run(sourceId, owner));
  }
}
