-- The claim on (:pipeline, :snapshot_date), with whether it is still live.
SELECT pipeline, snapshot_date, run_id, step, holder, holder_is_run, claimed_at, refreshed_at, expires_at,
       expires_at > now() AS live
FROM ops.snapshot_claims
WHERE pipeline = :pipeline AND snapshot_date = :snapshot_date
FOR UPDATE;
