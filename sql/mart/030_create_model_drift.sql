-- mart: what BI reads. Views only, over scoring.*; they run with their owner's rights, so BI
-- needs no grants on scoring/raw/ml (sql/mart/080_grant_bi_reader.sql).
-- Changing a view's columns needs DROP VIEW first (CREATE OR REPLACE only appends columns): the
-- revision that changes them drops the view, and migrate re-creates it from here (sql/README.md).

-- Drift monitoring for BI: PSI of each model input and of the score, per scoring run.
CREATE OR REPLACE VIEW mart.model_drift AS
SELECT
    score_date,
    model_version,
    variable,
    variable_kind,
    round(psi::numeric, 4)::double precision AS psi,
    status,
    customers,
    reference_snapshot,
    reference_rows,
    score_date = (SELECT max(score_date) FROM scoring.drift_psi) AS is_latest_run,
    computed_at
FROM scoring.drift_psi;

COMMENT ON VIEW mart.model_drift IS
    'Population stability index (PSI) of each model input and of the churn probability against the model''s training snapshot, one row per variable per scoring run.';
COMMENT ON COLUMN mart.model_drift.score_date IS 'Snapshot that was scored.';
COMMENT ON COLUMN mart.model_drift.model_version IS 'Model whose training snapshot is the reference.';
COMMENT ON COLUMN mart.model_drift.variable IS 'Model input column, or churn_probability for the score distribution.';
COMMENT ON COLUMN mart.model_drift.variable_kind IS 'feature or score.';
COMMENT ON COLUMN mart.model_drift.psi IS 'Population stability index over the training deciles (categories for categorical inputs), unitless, 4 decimals; 0 = same distribution.';
COMMENT ON COLUMN mart.model_drift.status IS 'stable: PSI < 0.1; watch: 0.1..0.2; shifted: > 0.2 (logged as a warning; consider retraining).';
COMMENT ON COLUMN mart.model_drift.customers IS 'Scored customers compared with the reference (count).';
COMMENT ON COLUMN mart.model_drift.reference_snapshot IS 'Training snapshot of the model.';
COMMENT ON COLUMN mart.model_drift.reference_rows IS 'Training rows of the model (count).';
COMMENT ON COLUMN mart.model_drift.is_latest_run IS 'True for the newest scored date.';
COMMENT ON COLUMN mart.model_drift.computed_at IS 'When the PSI was computed (timestamp with time zone).';
