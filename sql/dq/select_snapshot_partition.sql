-- The snapshot's own partition of a LIST-partitioned table (raw.*), as (schema, table); no row when
-- the table is not partitioned or has no partition for the date. The GX gate reads a partition
-- directly: no copy of the batch, and the server may scan it with parallel workers.
SELECT n.nspname AS schema_name, c.relname AS table_name
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE i.inhparent = CAST(:parent AS regclass)
  AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', CAST(:snapshot_date AS date));
