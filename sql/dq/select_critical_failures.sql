-- Failed critical expectations of the newest failed gate run of :snapshot_date started at or
-- after :since (what `make run` prints when a gate stops it), one row per finding.
WITH failed AS (
    SELECT run_id
    FROM dq.validation_runs
    WHERE snapshot_date = :snapshot_date AND NOT success AND started_at >= :since
    ORDER BY started_at DESC
    LIMIT 1
)

SELECT v.suite, v.table_name, finding.detail
FROM dq.validation_runs AS v
JOIN failed USING (run_id)
CROSS JOIN LATERAL jsonb_array_elements(v.details) AS finding (detail)
WHERE finding.detail ->> 'severity' = 'critical'
  AND NOT (finding.detail ->> 'success')::boolean
ORDER BY v.suite;
