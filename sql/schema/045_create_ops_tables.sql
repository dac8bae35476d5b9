-- ops: state that keeps reruns, retries and overlapping runs safe (etl/ops/claims.py, etl/ops/batches.py).

-- One run at a time per pipeline and snapshot date. A run claims the date at its first step and
-- refreshes the claim at every step; a step of another run is refused while the claim is live.
-- The last step (publish) or the failure callback releases it; a killed run's claim expires, or
-- is taken over at once when its holder ran the whole run and its process is gone, or when
-- Airflow reports the holder run finished.
CREATE TABLE IF NOT EXISTS ops.snapshot_claims (
    pipeline       text        NOT NULL CHECK (pipeline IN ('ingest', 'score')),
    snapshot_date  date        NOT NULL,
    run_id         text        NOT NULL,  -- dag_id/run_id, or script/<uuid> outside Airflow
    step           text        NOT NULL,  -- the step that claimed or refreshed it last
    holder         text        NOT NULL,  -- host:pid:start-ticks of that step's process
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    refreshed_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    -- The holder's process runs the whole run (`make run`'s airflow dags test, the CLI): once it
    -- is gone, so is the run, and the next run takes the claim over at once. A scheduler task's
    -- process ends after each step: Airflow's state of its run decides instead (etl/ops/claims.py).
    holder_is_run  boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (pipeline, snapshot_date)
);

-- Write-audit-publish state of each snapshot's staged batch (staged features, staged scores):
-- which build the gate passed, and whether it was published. Publishing requires the gated
-- batch itself; a retry after publishing finds it published and changes nothing.
CREATE TABLE IF NOT EXISTS ops.staged_batches (
    layer          text        NOT NULL CHECK (layer IN ('features', 'scoring')),
    snapshot_date  date        NOT NULL,
    batch_id       uuid        NOT NULL,  -- new at every build of the staged rows
    run_id         text        NOT NULL,
    rows           bigint      NOT NULL CHECK (rows >= 0),
    staged_at      timestamptz NOT NULL,
    gate_run_id    uuid,                  -- dq.validation_runs.run_id of the passing gate on this batch
    audited_at     timestamptz,
    published_at   timestamptz,
    -- When the date's rows were last published, by any batch: a rebuild clears published_at (its
    -- batch is not published yet) but the published rows of an earlier batch are still there.
    -- churn_score compares it with the features' publish (sql/scoring/select_snapshots_to_score.sql).
    last_published_at  timestamptz,
    PRIMARY KEY (layer, snapshot_date),
    CHECK (published_at IS NULL OR gate_run_id IS NOT NULL)
);

-- Every alert the job raised (a task that failed for good, a missed deadline), once per key, and
-- whether the webhook took it: an alert the webhook did not take stays here, and `churn status`
-- shows it (job/orchestration/alerts.py).
CREATE TABLE IF NOT EXISTS ops.alerts (
    alert_key     text        PRIMARY KEY,  -- dag.task[map] run try, or the deadline and its run
    text          text        NOT NULL,     -- the one line a person reads first
    payload       jsonb       NOT NULL,     -- what was (or would have been) POSTed
    raised_at     timestamptz NOT NULL DEFAULT now(),
    attempts      integer     NOT NULL DEFAULT 0,
    delivered_at  timestamptz,              -- null: the webhook did not take it (or alerts are off)
    last_error    text
);
