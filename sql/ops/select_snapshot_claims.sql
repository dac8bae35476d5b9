-- Every claim, newest first, with whether it is still live (for `python -m etl.ops.claims list`).
SELECT pipeline, snapshot_date, run_id, step, holder, holder_is_run, claimed_at, refreshed_at, expires_at,
       expires_at > now() AS live
FROM ops.snapshot_claims
ORDER BY refreshed_at DESC;
