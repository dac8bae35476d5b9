-- Revision 0004 (etl/warehouse/migrations/versions/0004_claims_holder_is_run.py): whether a
-- claim's holder process runs the whole run, so that a claim whose holder is gone is taken over
-- at once (etl/ops/claims.py). Claims held before it count as a task's: they only expire.
ALTER TABLE ops.snapshot_claims ADD COLUMN holder_is_run boolean NOT NULL DEFAULT false;
