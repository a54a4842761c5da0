-- The seed's three questions, as its users asked them of sync_batches and
-- sync_progress. They run as written against the local journal
-- (`sqlite3 storage/sync-journal.db < docs/seed-queries.sql`) and against the
-- fleet's mirror in the central database
-- (`psql -c 'SET search_path TO branchsync' -f docs/seed-queries.sql`).
-- Statements are separated by a line holding only ";" so tests can split them.

-- How long does each table usually take?
SELECT table_name,
       COUNT(*) AS runs,
       AVG(duration_seconds) AS avg_duration_seconds,
       MAX(duration_seconds) AS max_duration_seconds
FROM sync_progress
WHERE status = 'completed'
GROUP BY table_name
ORDER BY avg_duration_seconds DESC
;
-- Which tables fail most?
SELECT table_name,
       connection_name,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failures,
       AVG(retry_count) AS avg_retries
FROM sync_progress
GROUP BY table_name, connection_name
ORDER BY failures DESC, table_name, connection_name
;
-- How often does a sync succeed?
SELECT b.status,
       COUNT(*) AS batches,
       100.0 * COUNT(*) / (SELECT COUNT(*) FROM sync_batches) AS percent,
       AVG(b.duration_seconds) AS avg_duration_seconds
FROM sync_batches b
GROUP BY b.status
ORDER BY batches DESC
;
