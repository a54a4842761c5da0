-- Schema version 6: what a finished copy did besides counting records.
-- records_processed and records_skipped keep the seed's meaning. NULL means
-- "not known for this row": rows finished before this version, and byte
-- counts on paths where branchsync cannot see the traffic (see the README,
-- "Counts" under the guarantees).

-- rows inserted or updated in the target (a copy: processed - skipped;
-- mirror: the rows that differed)
ALTER TABLE sync_progress ADD COLUMN rows_written INTEGER;
-- rows deleted from the connection's slice (mirror only; 0 otherwise)
ALTER TABLE sync_progress ADD COLUMN rows_deleted INTEGER;
-- bytes read from the branch and written to the central over the links
ALTER TABLE sync_progress ADD COLUMN bytes_read INTEGER;
ALTER TABLE sync_progress ADD COLUMN bytes_written INTEGER;
