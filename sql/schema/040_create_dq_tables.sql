-- dq: results of the GX quality gates (etl/quality/), one row per suite per gate run.
-- Contract: suite, snapshot_date, success, the counts and details. A gate run (run_id) checks
-- every suite of one layer (raw / features / scoring) for one snapshot; rows are written in their own
-- transaction, so a failed gate is recorded too.
CREATE TABLE IF NOT EXISTS dq.validation_runs (
    run_id           uuid        NOT NULL,
    suite            text        NOT NULL,   -- expectations/<suite>.json, e.g. raw.market_money
    snapshot_date    date        NOT NULL,
    layer            text        NOT NULL,   -- raw / features / scoring
    table_name       text        NOT NULL,   -- the guarded table
    success          boolean     NOT NULL,   -- no critical expectation failed (warnings allowed)
    evaluated_count  integer     NOT NULL,   -- expectations evaluated
    failed_count     integer     NOT NULL,   -- of which failed (critical + warnings)
    critical_failed  integer     NOT NULL,
    warnings_failed  integer     NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    data_docs_path   text,                   -- this suite's Data Docs page
    details          jsonb       NOT NULL,   -- per expectation: type, severity, column, success,
                                             -- unexpected_count, sample, arguments, notes, exception
    PRIMARY KEY (run_id, suite),
    CHECK (failed_count = critical_failed + warnings_failed),
    CHECK (success = (critical_failed = 0))
);

CREATE INDEX IF NOT EXISTS validation_runs_snapshot_idx
    ON dq.validation_runs (snapshot_date, suite, started_at);
