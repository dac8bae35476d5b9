-- One suite's result of one gate run (etl/quality/: record).
INSERT INTO dq.validation_runs (
    run_id, suite, snapshot_date, layer, table_name, success,
    evaluated_count, failed_count, critical_failed, warnings_failed,
    started_at, finished_at, data_docs_path, details
)
VALUES (
    CAST(:run_id AS uuid), :suite, :snapshot_date, :layer, :table_name, :success,
    :evaluated_count, :failed_count, :critical_failed, :warnings_failed,
    :started_at, :finished_at, :data_docs_path, CAST(:details AS jsonb)
);
