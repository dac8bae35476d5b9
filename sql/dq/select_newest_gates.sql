-- The newest gate run of each layer, whatever its date (`churn status`).
WITH newest AS (
    SELECT DISTINCT ON (layer) layer, run_id, snapshot_date
    FROM dq.validation_runs
    ORDER BY layer, started_at DESC
)

SELECT
    v.layer,
    newest.snapshot_date,
    bool_and(v.success) AS success,
    sum(v.critical_failed) AS critical_failed,
    sum(v.warnings_failed) AS warnings_failed,
    max(v.finished_at) AS finished_at
FROM dq.validation_runs AS v
JOIN newest USING (layer, run_id)
GROUP BY v.layer, newest.snapshot_date
ORDER BY v.layer;
