-- Serialise the steps of one pipeline on one snapshot date for the rest of the transaction
-- (two-key advisory lock: the pipeline's class, the date as days since 2000-01-01).
SELECT pg_advisory_xact_lock(:lock_class, CAST(:snapshot_date AS date) - DATE '2000-01-01');
