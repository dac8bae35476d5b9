-- The newest gate run of each layer for :snapshot_date (for the run summary).
WITH latest AS (
    SELECT DISTINCT ON (layer) layer, run_id
    FROM dq.validation_runs
    WHERE snapshot_date = :snapshot_date
    ORDER BY layer, started_at DESC
)

SELECT
    v.layer,
    bool_and(v.success) AS success,
    count(*) AS suites,
    sum(v.critical_failed) AS critical_failed,
    sum(v.warnings_failed) AS warnings_failed
FROM dq.validation_runs v
JOIN latest USING (layer, run_id)
GROUP BY v.layer
ORDER BY min(v.started_at);
