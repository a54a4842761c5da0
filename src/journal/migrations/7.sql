-- Schema version 7: the last description of each table at each connection,
-- so that a batch plans the central table from every branch, also from a
-- branch that cannot be reached tonight (its last known columns).
CREATE TABLE IF NOT EXISTS table_descriptions (
    connection_name TEXT NOT NULL,
    table_name      TEXT NOT NULL,
    -- JSON: {"columns": [{"name", "kind", "dialect", "type", "base", "nullable"}], "primary_key": [...]}
    description     TEXT NOT NULL,
    described_at    TEXT NOT NULL,
    PRIMARY KEY (connection_name, table_name)
);
