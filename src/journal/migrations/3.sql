-- Schema version 3: when a batch actually ran, and batches given up.
--
-- A batch runs in one or more segments: the first run, then one per resume.
-- Its duration is the sum of its segments (the idle gap between an
-- interruption and a resume is not work), and the screens show
-- "Interrupted at / Resumed at" from them.
CREATE TABLE IF NOT EXISTS sync_segments (
    id          INTEGER PRIMARY KEY,
    batch_id    TEXT    NOT NULL REFERENCES sync_batches (batch_id) ON DELETE CASCADE,
    started_at  TEXT    NOT NULL,
    -- NULL while the segment runs
    ended_at    TEXT,
    -- completed | failed | interrupted, as the batch stood when it ended
    end_status  TEXT
);

CREATE INDEX IF NOT EXISTS sync_segments_batch ON sync_segments (batch_id);

-- A failed or interrupted batch the operator gave up (`sync-status ID
-- --abandon`), or that a newer completed batch superseded. Its status stays
-- as it was (failed or interrupted); `sync-resume-interrupted` no longer
-- resumes it and `sync-all --resume` refuses it.
CREATE TABLE IF NOT EXISTS sync_abandoned (
    batch_id     TEXT    PRIMARY KEY REFERENCES sync_batches (batch_id) ON DELETE CASCADE,
    abandoned_at TEXT    NOT NULL,
    reason       TEXT    NOT NULL
);
