/**
 * The state file's schema, versioned. Each migration moves the file one version forward inside a
 * transaction; a file from a newer s3pull is refused rather than misread.
 */
export const MIGRATIONS: string[] = [
  // 1: sources, partitions (one settled key each), the ledger of objects.
  `
  CREATE TABLE sources (
    source_id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    since_ms INTEGER,
    created_ms INTEGER NOT NULL,
    reset_request TEXT,
    last_poll_start_ms INTEGER,
    last_poll_end_ms INTEGER,
    last_poll_status TEXT,
    last_poll_error TEXT,
    next_poll_ms INTEGER,
    objects_done INTEGER NOT NULL DEFAULT 0,
    objects_failed INTEGER NOT NULL DEFAULT 0,
    objects_skipped INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    bad_lines INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE partitions (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    settled_key TEXT NOT NULL DEFAULT '',
    newest_done_modified_ms INTEGER,
    PRIMARY KEY (source_id, prefix)
  );
  CREATE TABLE objects (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    partition TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'done', 'failed', 'skipped')),
    events INTEGER NOT NULL DEFAULT 0,
    bad_lines INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_ms INTEGER,
    first_seen_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
  );
  CREATE INDEX objects_by_status ON objects (source_id, status);
  `,
  // 2: a lease per source, so that `once` and `run` (or two hosts on one state file) never poll
  // the same source at the same time.
  `
  ALTER TABLE sources ADD COLUMN lease_owner TEXT;
  ALTER TABLE sources ADD COLUMN lease_until_ms INTEGER;
  `,
  // 3: when the partitions under the prefix were last looked for.
  `
  ALTER TABLE sources ADD COLUMN last_discovery_ms INTEGER;
  `,
  // 4: partitions whose date folders are not zero-padded (AWS Config) are ordered as dates.
  `
  ALTER TABLE partitions ADD COLUMN unpadded_dates INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: dedup: keys of delivered events (CloudTrail eventID + account) within the source's window,
  // and how many repeats each object dropped (they hold positions, so a resume must count them).
  `
  CREATE TABLE dedup_keys (
    source_id TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    seen_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, dedup_key)
  ) WITHOUT ROWID;
  CREATE INDEX dedup_keys_by_age ON dedup_keys (source_id, seen_ms);
  ALTER TABLE objects ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE sources ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
  `,
  // 6: the ledger keyed by bucket as well as key, since one queue can name objects of several
  // buckets. Existing rows take the bucket of their source's scope.
  `
  CREATE TABLE objects_by_bucket (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    partition TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'done', 'failed', 'skipped')),
    events INTEGER NOT NULL DEFAULT 0,
    bad_lines INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_ms INTEGER,
    first_seen_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, bucket, key)
  );
  INSERT INTO objects_by_bucket
    SELECT o.source_id, CASE WHEN json_valid(s.scope) THEN coalesce(json_extract(s.scope, '$.bucket'), '') ELSE '' END, o.key, o.partition, o.etag, o.size, o.last_modified_ms,
           o.status, o.events, o.bad_lines, o.duplicates, o.attempts, o.last_error, o.next_attempt_ms, o.first_seen_ms, o.updated_ms
    FROM objects o JOIN sources s ON s.source_id = o.source_id;
  DROP TABLE objects;
  ALTER TABLE objects_by_bucket RENAME TO objects;
  CREATE INDEX objects_by_status ON objects (source_id, status);
  CREATE INDEX objects_by_partition ON objects (source_id, partition, status);
  `,
  // 7: what the queue of an SQS source looked like when it was last asked.
  `
  ALTER TABLE sources ADD COLUMN queue_messages INTEGER;
  ALTER TABLE sources ADD COLUMN queue_in_flight INTEGER;
  ALTER TABLE sources ADD COLUMN queue_oldest_sent_ms INTEGER;
  ALTER TABLE sources ADD COLUMN queue_checked_ms INTEGER;
  `,
  // 8: AWS requests made for each source, per operation and UTC day (what the owners pay for).
  `
  CREATE TABLE requests (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    operation TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (source_id, day, operation)
  );
  `,
  // 9: the SHA-256 of each object's decompressed bytes, where the source hashes them (CloudTrail
  // digests record it for every log file).
  `
  ALTER TABLE objects ADD COLUMN sha256 TEXT;
  `,
  // 10: what each CloudTrail digest proved when it was last checked (\`cloudtrail.digests: verify\`).
  `
  CREATE TABLE digest_checks (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    end_ms INTEGER NOT NULL,
    checked_ms INTEGER NOT NULL,
    files_listed INTEGER NOT NULL,
    files_delivered INTEGER NOT NULL,
    recovered INTEGER NOT NULL DEFAULT 0,
    findings TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
  );
  CREATE INDEX digest_checks_by_end ON digest_checks (source_id, end_ms);
  ALTER TABLE sources ADD COLUMN last_digest_check_ms INTEGER;
  `,
  // 11: backfill and replay jobs (s3pull backfill): their range, the day folders they finished,
  // and, for a replay, what each object delivered (the live ledger is not theirs to touch).
  `
  CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('backfill', 'replay')),
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    output TEXT,
    started_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    objects_done INTEGER NOT NULL DEFAULT 0,
    objects_failed INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until_ms INTEGER
  );
  CREATE INDEX jobs_by_source ON jobs (source_id, finished_ms);
  CREATE TABLE job_folders (
    job_id INTEGER NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
    folder TEXT NOT NULL,
    done_ms INTEGER NOT NULL,
    PRIMARY KEY (job_id, folder)
  );
  CREATE TABLE job_objects (
    job_id INTEGER NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_progress', 'done', 'failed')),
    events INTEGER NOT NULL DEFAULT 0,
    bad_lines INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (job_id, bucket, key)
  );
  -- When each partition's marker first moved into a day folder: every day before it had been
  -- left by then. Kept when the ledger rows of those days are pruned, so that a backfill can
  -- still tell an object that was delivered from one that arrived after the marker had passed.
  CREATE TABLE marker_days (
    source_id TEXT NOT NULL REFERENCES sources(source_id) ON DELETE CASCADE,
    partition TEXT NOT NULL,
    day TEXT NOT NULL,
    reached_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, partition, day)
  );
  `,
];
