-- Revision 0003 (etl/warehouse/migrations/versions/0003_create_alerts.py): the durable record
-- of alerts, as sql/schema/045_create_ops_tables.sql creates it on a fresh warehouse.
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
