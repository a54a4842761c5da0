-- branchsync journal schema (SQLite). Applied by the binary; the version lives in
-- PRAGMA user_version. Column names follow the original seed so its SQL runs as
-- written. Timestamps are UTC ISO-8601 text ("2026-11-26T08:45:22.123Z"), sortable.

CREATE TABLE IF NOT EXISTS sync_batches (
    id               INTEGER PRIMARY KEY,
    batch_id         TEXT    NOT NULL UNIQUE,
    status           TEXT    NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    total_tables     INTEGER NOT NULL DEFAULT 0,
    completed_tables INTEGER NOT NULL DEFAULT 0,
    failed_tables    INTEGER NOT NULL DEFAULT 0,
    command_options  TEXT    NOT NULL DEFAULT '{}',
    started_at       TEXT    NOT NULL,
    completed_at     TEXT,
    duration_seconds REAL,
    -- liveness: who runs (ran) this batch
    pid              INTEGER,
    host             TEXT,
    boot_id          TEXT,
    heartbeat_at     TEXT
);

CREATE INDEX IF NOT EXISTS sync_batches_started_at ON sync_batches (started_at);
CREATE INDEX IF NOT EXISTS sync_batches_status ON sync_batches (status);

CREATE TABLE IF NOT EXISTS sync_progress (
    id                INTEGER PRIMARY KEY,
    batch_id          TEXT    NOT NULL REFERENCES sync_batches (batch_id) ON DELETE CASCADE,
    connection_name   TEXT    NOT NULL,
    table_name        TEXT    NOT NULL,
    model_name        TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'skipped')),
    records_processed INTEGER NOT NULL DEFAULT 0,
    records_skipped   INTEGER NOT NULL DEFAULT 0,
    error_message     TEXT,
    started_at        TEXT,
    completed_at      TEXT,
    duration_seconds  REAL,
    retry_count       INTEGER NOT NULL DEFAULT 0,
    -- 1: single-source table (step 1), 2: per-connection table (step 2)
    step              INTEGER NOT NULL DEFAULT 2,
    UNIQUE (batch_id, connection_name, table_name)
);

CREATE INDEX IF NOT EXISTS sync_progress_status ON sync_progress (status);
CREATE INDEX IF NOT EXISTS sync_progress_table ON sync_progress (table_name);
