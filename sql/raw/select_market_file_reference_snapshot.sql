-- The snapshot the swap check compares :snapshot_date's market_file with: the latest loaded
-- snapshot before it, else the earliest after it (NULL when no other snapshot is loaded).
-- Dates come from the partition catalogue (ops.partition_name: market_file_pYYYYMMDD), so no
-- partition is scanned to find them.
WITH loaded AS (
    SELECT to_date(substring(c.relname FROM '_p([0-9]{8})$'), 'YYYYMMDD') AS snapshot_date
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'raw.market_file'::regclass
)
SELECT coalesce(
    (SELECT max(snapshot_date) FROM loaded WHERE snapshot_date < :snapshot_date),
    (SELECT min(snapshot_date) FROM loaded WHERE snapshot_date > :snapshot_date)
) AS reference_date;
