-- Schema version 5: the committed chunks of large copies (mid-table resume).
-- A copy larger than [engine] chunk_rows is written in key-range chunks;
-- each chunk is committed at the target and then recorded here. The seed's
-- tables are unchanged.

CREATE TABLE IF NOT EXISTS sync_chunks (
    batch_id        TEXT    NOT NULL REFERENCES sync_batches (batch_id) ON DELETE CASCADE,
    connection_name TEXT    NOT NULL,
    table_name      TEXT    NOT NULL,
    -- 1-based, in key order
    chunk_no        INTEGER NOT NULL,
    -- JSON array of the key's text forms: the chunk's inclusive upper bound;
    -- NULL for the last chunk (open to the end of the table)
    upper_key       TEXT,
    rows            INTEGER NOT NULL,
    -- UTC ISO-8601, when the target committed the chunk
    committed_at    TEXT    NOT NULL,
    PRIMARY KEY (batch_id, connection_name, table_name, chunk_no)
);
