import type { DigestCheckRow, DigestCheckStore } from '../types.js';
import type { Connection } from './connection.js';

interface DigestCheckRecord {
  key: string;
  end_ms: number;
  checked_ms: number;
  files_listed: number;
  files_delivered: number;
  recovered: number;
  findings: string;
}

export class SqliteDigestCheckStore implements DigestCheckStore {
  constructor(private readonly conn: Connection) {}

  recordDigestCheck(sourceId: string, row: DigestCheckRow): void {
    this.conn.run(() =>
      this.conn
        .statement(
          `INSERT INTO digest_checks (source_id, key, end_ms, checked_ms, files_listed, files_delivered, recovered, findings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (source_id, key) DO UPDATE SET end_ms = excluded.end_ms, checked_ms = excluded.checked_ms, files_listed = excluded.files_listed,
             files_delivered = excluded.files_delivered, recovered = digest_checks.recovered + excluded.recovered, findings = excluded.findings`,
        )
        .run(sourceId, row.key, row.endMs, row.checkedMs, row.filesListed, row.filesDelivered, row.recovered, JSON.stringify(row.findings)),
    );
  }

  digestChecks(sourceId: string, sinceMs: number): DigestCheckRow[] {
    return this.conn.run(() =>
      (this.conn.statement('SELECT key, end_ms, checked_ms, files_listed, files_delivered, recovered, findings FROM digest_checks WHERE source_id = ? AND end_ms >= ? ORDER BY end_ms, key').all(sourceId, sinceMs) as DigestCheckRecord[]).map((record) => ({
        key: record.key,
        endMs: record.end_ms,
        checkedMs: record.checked_ms,
        filesListed: record.files_listed,
        filesDelivered: record.files_delivered,
        recovered: record.recovered,
        findings: JSON.parse(record.findings) as DigestCheckRow['findings'],
      })),
    );
  }

  lastDigestCheckMs(sourceId: string): number | null {
    return this.conn.run(() => (this.conn.statement('SELECT last_digest_check_ms AS ms FROM sources WHERE source_id = ?').get(sourceId) as { ms: number | null } | undefined)?.ms ?? null);
  }

  pruneDigestChecks(sourceId: string, beforeMs: number): number {
    return this.conn.run(() => this.conn.statement('DELETE FROM digest_checks WHERE source_id = ? AND end_ms < ?').run(sourceId, beforeMs).changes);
  }

  recordDigestCheckTime(sourceId: string, nowMs: number): void {
    this.conn.run(() => this.conn.statement('UPDATE sources SET last_digest_check_ms = ? WHERE source_id = ?').run(nowMs, sourceId));
  }
}
