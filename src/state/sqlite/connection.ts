/**
 * The one connection to the state file that every store of a concern shares. WAL mode so that the
 * CLI can read (and request resets) while the service writes; the file is created 0600; the
 * schema is migrated on open. Every call goes through `run`, which checks that the file is still
 * the one opened and turns SQLite's errors into StateErrors that name the file and the fix.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from '../schema.js';
import { S3PullError, StateError } from '../../util/errors.js';
import { ensureDirSync } from '../../util/fs.js';
import { stateError } from '../state-errors.js';

export interface StoreOptions {
  readonly?: boolean;
  /** Told when the state file had to be written back (it was deleted while s3pull ran). */
  onRestored?: (file: string) => void;
}

/** How often the state file's identity is checked (a stat), at most: the check sits on every call. */
const FILE_CHECK_MS = 1000;

export class Connection {
  private statements = new Map<string, Database.Statement>();
  private identity: { dev: number; ino: number } | undefined;
  private checkedMs = 0;
  /** Only the outermost call checks: a call inside another must not restore mid-transaction. */
  private depth = 0;

  private constructor(
    private db: Database.Database,
    readonly file: string,
    private readonly options: StoreOptions,
  ) {
    this.identity = identityOf(file);
  }

  static open(file: string, options: StoreOptions): Connection {
    try {
      return new Connection(openDatabase(file, options.readonly ?? false), file, options);
    } catch (error) {
      throw stateError(file, error);
    }
  }

  /** A prepared statement, made once per open database. */
  statement<P extends unknown[] | object = unknown[], R = unknown>(sql: string): Database.Statement<P extends unknown[] ? P : [P], R> {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared as unknown as Database.Statement<P extends unknown[] ? P : [P], R>;
  }

  /** Runs one call of a store: the file checked first, SQLite's errors made StateErrors. */
  run<T>(work: () => T): T {
    this.depth += 1;
    try {
      if (this.depth === 1) this.checkFile();
      return work();
    } catch (error) {
      throw stateError(this.file, error);
    } finally {
      this.depth -= 1;
    }
  }

  /** Runs `work` in one transaction, as one store call. */
  transaction<T>(work: () => T): T {
    return this.run(() => this.db.transaction(work)());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * The state file must still be the one that was opened. Deleted (an operator cleaning up): it
   * is written back from the open connection, which still holds everything, so a restart does
   * not deliver it all again. Replaced by another file: neither is used silently; polls stop.
   */
  private checkFile(): void {
    if (this.options.readonly) return;
    const now = Date.now();
    if (now - this.checkedMs < FILE_CHECK_MS) return;
    this.checkedMs = now;
    const found = identityOf(this.file);
    if (found && this.identity && found.dev === this.identity.dev && found.ino === this.identity.ino) return;
    if (found) {
      throw new StateError(
        'STATE_REPLACED',
        `state file ${this.file} was replaced by another file while s3pull ran; s3pull stops rather than mix the two: restart it to use the new file`,
      );
    }
    const temporary = `${this.file}.restore-${process.pid}`;
    rmSync(temporary, { force: true });
    this.db.exec(`VACUUM INTO '${temporary.replaceAll("'", "''")}'`);
    chmodSync(temporary, 0o600);
    // Closed before the copy takes the name: closing removes the old -wal/-shm files at that path,
    // which must never be read as the new file's.
    this.db.close();
    renameSync(temporary, this.file);
    this.db = openDatabase(this.file, false);
    this.statements = new Map();
    this.identity = identityOf(this.file);
    this.options.onRestored?.(this.file);
  }
}

function openDatabase(file: string, readonly: boolean): Database.Database {
  if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
  if (!readonly) {
    ensureDirSync(path.dirname(file));
    if (!existsSync(file)) {
      // Created by us with 0600 before SQLite opens it: the ledger names buckets and keys.
      closeSync(openSync(file, 'a', 0o600));
      chmodSync(file, 0o600);
    }
  } else if (!existsSync(file)) {
    throw new S3PullError('STATE_MISSING', `state file ${file} does not exist yet (no poll has run)`);
  }
  const db = new Database(file, { readonly, timeout: 10_000 });
  try {
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
    } else {
      // A read-only open reads nothing until asked; this makes a damaged or foreign file say so now.
      if (db.pragma('user_version', { simple: true }) === 0) {
        throw new StateError('STATE_NOT_S3PULL', `state file ${file}: it holds no s3pull state (empty, or another program's database); check the state setting`);
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      // A reader must not migrate (the service may be running an older s3pull), nor misread.
      if (version < MIGRATIONS.length) {
        throw new StateError('STATE_OLDER', `state file ${file} was written by an older s3pull (schema ${version}; this one: ${MIGRATIONS.length}): it is upgraded when \`s3pull run\` or \`s3pull once\` next starts`);
      }
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new S3PullError('STATE_TOO_NEW', `state file ${file} has schema version ${version}, newer than this s3pull knows (${MIGRATIONS.length}); upgrade s3pull`);
  }
  for (let next = version; next < MIGRATIONS.length; next += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

function identityOf(file: string): { dev: number; ino: number } | undefined {
  try {
    const { dev, ino } = statSync(file);
    return { dev, ino };
  } catch {
    return undefined;
  }
}
