-- Schema version 2: what became of each notification sent when a batch ended
-- (one row per [[notify]] entry and batch end), so that a lost alert is seen
-- in the journal and not only in a log that nobody reads.

CREATE TABLE IF NOT EXISTS sync_notifications (
    id            INTEGER PRIMARY KEY,
    batch_id      TEXT    NOT NULL REFERENCES sync_batches (batch_id) ON DELETE CASCADE,
    -- the [[notify]] entry, e.g. '[[notify]] #2 "ops-slack"'
    notifier      TEXT    NOT NULL,
    -- webhook | slack | discord | email
    kind          TEXT    NOT NULL,
    -- the batch status that was announced: completed | failed | interrupted
    event         TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 1,
    error_message TEXT,
    -- UTC ISO-8601, when the last attempt ended
    sent_at       TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS sync_notifications_batch ON sync_notifications (batch_id);
