-- One migrator at a time (etl.warehouse.db.migrate), for the rest of its transaction. The key is
-- the one ensure_schema took before revisions existed, so old and new code never overlap.
SELECT pg_advisory_xact_lock(727001);
