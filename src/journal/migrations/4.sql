-- Schema version 4: the mirror outbox. Every change to a batch or progress row
-- queues its key here, in the same transaction as the change (triggers), so no
-- change can be made without being queued. The mirror writer sends the row as
-- it is *now* for each key, in `seq` order, and then deletes the keys it sent;
-- a key changed again meanwhile has a newer `seq` and stays. One entry per key
-- (a newer change replaces the older entry), so the outbox never holds more
-- entries than the journal has rows, however long the central is away.

CREATE TABLE IF NOT EXISTS mirror_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id        TEXT NOT NULL,
    -- '' and '' for the batch row itself
    connection_name TEXT NOT NULL DEFAULT '',
    table_name      TEXT NOT NULL DEFAULT '',
    UNIQUE (batch_id, connection_name, table_name) ON CONFLICT REPLACE
);

CREATE TRIGGER IF NOT EXISTS mirror_batch_insert AFTER INSERT ON sync_batches
BEGIN
    INSERT INTO mirror_outbox (batch_id) VALUES (NEW.batch_id);
END;

-- Only the mirrored (seed) columns; heartbeats do not queue anything.
CREATE TRIGGER IF NOT EXISTS mirror_batch_update AFTER UPDATE ON sync_batches
WHEN OLD.status IS NOT NEW.status
  OR OLD.total_tables IS NOT NEW.total_tables
  OR OLD.completed_tables IS NOT NEW.completed_tables
  OR OLD.failed_tables IS NOT NEW.failed_tables
  OR OLD.command_options IS NOT NEW.command_options
  OR OLD.started_at IS NOT NEW.started_at
  OR OLD.completed_at IS NOT NEW.completed_at
  OR OLD.duration_seconds IS NOT NEW.duration_seconds
BEGIN
    INSERT INTO mirror_outbox (batch_id) VALUES (NEW.batch_id);
END;

CREATE TRIGGER IF NOT EXISTS mirror_batch_delete AFTER DELETE ON sync_batches
BEGIN
    INSERT INTO mirror_outbox (batch_id) VALUES (OLD.batch_id);
END;

CREATE TRIGGER IF NOT EXISTS mirror_progress_insert AFTER INSERT ON sync_progress
BEGIN
    INSERT INTO mirror_outbox (batch_id, connection_name, table_name)
    VALUES (NEW.batch_id, NEW.connection_name, NEW.table_name);
END;

CREATE TRIGGER IF NOT EXISTS mirror_progress_update AFTER UPDATE ON sync_progress
BEGIN
    INSERT INTO mirror_outbox (batch_id, connection_name, table_name)
    VALUES (NEW.batch_id, NEW.connection_name, NEW.table_name);
END;

CREATE TRIGGER IF NOT EXISTS mirror_progress_delete AFTER DELETE ON sync_progress
BEGIN
    INSERT INTO mirror_outbox (batch_id, connection_name, table_name)
    VALUES (OLD.batch_id, OLD.connection_name, OLD.table_name);
END;

-- History written before this version is mirrored too.
INSERT INTO mirror_outbox (batch_id) SELECT batch_id FROM sync_batches ORDER BY id;
INSERT INTO mirror_outbox (batch_id, connection_name, table_name)
    SELECT batch_id, connection_name, table_name FROM sync_progress ORDER BY id;
