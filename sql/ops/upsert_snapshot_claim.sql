-- Claim (:pipeline, :snapshot_date) for :run_id, or refresh its claim (the caller checked that no
-- other run holds a live one whose holder is still there, under lock_snapshot).
INSERT INTO ops.snapshot_claims AS c (pipeline, snapshot_date, run_id, step, holder, holder_is_run, expires_at)
VALUES (:pipeline, :snapshot_date, :run_id, :step, :holder, :holder_is_run, now() + make_interval(secs => :ttl_seconds))
ON CONFLICT (pipeline, snapshot_date) DO UPDATE SET
    run_id       = EXCLUDED.run_id,
    step         = EXCLUDED.step,
    holder       = EXCLUDED.holder,
    holder_is_run = EXCLUDED.holder_is_run,
    claimed_at   = CASE WHEN c.run_id = EXCLUDED.run_id THEN c.claimed_at ELSE now() END,
    refreshed_at = now(),
    expires_at   = EXCLUDED.expires_at;
