-- Release claims: of :run_id (all its dates when :snapshot_date is null), or, with :run_id null,
-- the claim on (:pipeline, :snapshot_date) whoever holds it (an operator clearing a stuck claim).
DELETE FROM ops.snapshot_claims
WHERE (CAST(:run_id AS text) IS NULL OR run_id = :run_id)
  AND (CAST(:pipeline AS text) IS NULL OR pipeline = :pipeline)
  AND (CAST(:snapshot_date AS date) IS NULL OR snapshot_date = :snapshot_date)
RETURNING pipeline, snapshot_date, run_id;
