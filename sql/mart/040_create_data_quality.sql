-- mart: what BI reads (see 010). The quality gates (GX suites, etl/quality) for BI: the newest
-- gate of every suite and snapshot, and the expectations that failed in it.
CREATE OR REPLACE VIEW mart.data_quality AS
SELECT DISTINCT ON (runs.suite, runs.snapshot_date)
    runs.snapshot_date,
    runs.layer,
    runs.suite,
    runs.table_name,
    runs.success AS passed,
    runs.evaluated_count AS expectations,
    runs.critical_failed,
    runs.warnings_failed,
    runs.snapshot_date = max(runs.snapshot_date) OVER (PARTITION BY runs.layer) AS is_newest_snapshot,
    runs.run_id,
    runs.started_at,
    runs.finished_at
FROM dq.validation_runs AS runs
ORDER BY runs.suite, runs.snapshot_date, runs.started_at DESC;

COMMENT ON VIEW mart.data_quality IS
    'The newest quality gate of every suite and snapshot: did it pass, how many expectations, how many failed (critical stop the run, warnings do not). Failed expectations: mart.data_quality_failures.';
COMMENT ON COLUMN mart.data_quality.snapshot_date IS 'Snapshot (export date) the suite checked.';
COMMENT ON COLUMN mart.data_quality.layer IS 'raw (the four CSV files), features or scoring.';
COMMENT ON COLUMN mart.data_quality.suite IS 'GX suite (expectations/<suite>.json), named after the table it guards.';
COMMENT ON COLUMN mart.data_quality.table_name IS 'The guarded table.';
COMMENT ON COLUMN mart.data_quality.passed IS 'True when no critical expectation failed; a failed critical expectation stopped the run before anything downstream.';
COMMENT ON COLUMN mart.data_quality.expectations IS 'Expectations evaluated (count).';
COMMENT ON COLUMN mart.data_quality.critical_failed IS 'Failed expectations of severity critical (count): they stop the run.';
COMMENT ON COLUMN mart.data_quality.warnings_failed IS 'Failed expectations of severity warning (count): logged, the run goes on.';
COMMENT ON COLUMN mart.data_quality.is_newest_snapshot IS 'True for the newest snapshot gated in this layer.';
COMMENT ON COLUMN mart.data_quality.run_id IS 'Gate run (all suites of one layer for one snapshot); joins mart.data_quality_failures.';
COMMENT ON COLUMN mart.data_quality.started_at IS 'When the gate started (timestamp with time zone).';
COMMENT ON COLUMN mart.data_quality.finished_at IS 'When the gate finished (timestamp with time zone).';

CREATE OR REPLACE VIEW mart.data_quality_failures AS
SELECT
    gates.snapshot_date,
    gates.layer,
    gates.suite,
    gates.run_id,
    detail.value ->> 'severity' AS severity,
    detail.value ->> 'expectation' AS expectation,
    coalesce(detail.value ->> 'source_column', detail.value ->> 'column') AS column_name,
    (detail.value ->> 'unexpected_count')::bigint AS unexpected_rows,
    round((detail.value ->> 'unexpected_percent')::numeric, 2)::double precision AS unexpected_percent,
    (SELECT string_agg(sample.value, ', ') FROM jsonb_array_elements_text(detail.value -> 'sample') AS sample)
        AS sample_values,
    coalesce(detail.value ->> 'notes', detail.value ->> 'description') AS meaning,
    detail.value ->> 'exception' AS error
FROM mart.data_quality AS gates
JOIN dq.validation_runs AS runs ON runs.run_id = gates.run_id AND runs.suite = gates.suite
CROSS JOIN LATERAL jsonb_array_elements(runs.details) AS detail (value)
WHERE NOT (detail.value ->> 'success')::boolean;

COMMENT ON VIEW mart.data_quality_failures IS
    'Every expectation that failed in the newest gate of a suite and snapshot (mart.data_quality), with severity, column, how many rows and a sample of the values.';
COMMENT ON COLUMN mart.data_quality_failures.snapshot_date IS 'Snapshot (export date) the suite checked.';
COMMENT ON COLUMN mart.data_quality_failures.layer IS 'raw, features or scoring.';
COMMENT ON COLUMN mart.data_quality_failures.suite IS 'GX suite (expectations/<suite>.json).';
COMMENT ON COLUMN mart.data_quality_failures.run_id IS 'Gate run (joins mart.data_quality).';
COMMENT ON COLUMN mart.data_quality_failures.severity IS 'critical (stopped the run) or warning (logged only).';
COMMENT ON COLUMN mart.data_quality_failures.expectation IS 'GX expectation type, e.g. expect_column_values_to_be_between.';
COMMENT ON COLUMN mart.data_quality_failures.column_name IS 'Column of the export file (as the store names it) or table the expectation checks; NULL for table-level rules.';
COMMENT ON COLUMN mart.data_quality_failures.unexpected_rows IS 'Rows that broke the rule (count); NULL for table-level rules.';
COMMENT ON COLUMN mart.data_quality_failures.unexpected_percent IS 'unexpected_rows as a percentage of the rows checked (0..100, 2 decimals).';
COMMENT ON COLUMN mart.data_quality_failures.sample_values IS 'Up to 5 of the offending values, comma-separated.';
COMMENT ON COLUMN mart.data_quality_failures.meaning IS 'What the rule protects, in words (the suite''s notes).';
COMMENT ON COLUMN mart.data_quality_failures.error IS 'Error text when the expectation could not be evaluated at all; NULL otherwise.';
