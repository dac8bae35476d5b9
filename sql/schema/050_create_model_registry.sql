-- ml.model_registry: one row per trained model (contract columns: model_version, status, metrics,
-- artifact_sha256, library_versions, training_snapshot). Artifacts are joblib files in the model
-- store; loading one checks artifact_sha256 and library_versions first (ml/registry.py).
-- Status: 'challenger' (registered, gate not applied yet) → 'champion' or 'rejected';
-- a champion becomes 'retired' when a challenger replaces it (same transaction), or when a
-- rollback re-promotes the previous champion (`churn rollback`).
CREATE TABLE IF NOT EXISTS ml.model_registry (
    model_version      text             PRIMARY KEY,
    status             text             NOT NULL
        CHECK (status IN ('champion', 'challenger', 'retired', 'rejected')),
    training_snapshot  date             NOT NULL,
    training_rows      integer          NOT NULL CHECK (training_rows > 0),
    algorithm          text             NOT NULL,  -- candidate family: logreg, svc, knn, tree, forest, boosting
    estimator          text             NOT NULL,  -- class of the final estimator, e.g. SVC
    parameters         jsonb            NOT NULL,  -- encoder, scaler, model__* (rebuilds the pipeline)
    features           jsonb            NOT NULL,  -- model input columns, in order
    metrics            jsonb            NOT NULL,  -- CV metrics: every metric's mean/std/min/max, folds, scheme, candidates
    cv_roc_auc_mean    double precision NOT NULL,
    cv_roc_auc_std     double precision NOT NULL,
    brier_score        double precision NOT NULL,  -- mean over CV folds, calibrated probabilities
    threshold          double precision NOT NULL CHECK (threshold BETWEEN 0 AND 1),
    decision           jsonb            NOT NULL,  -- promotion gate: rule, compared champion, paired differences
    reference          jsonb            NOT NULL,  -- training bins of features and scores (PSI)
    artifact_path      text             NOT NULL,
    artifact_sha256    text             NOT NULL CHECK (artifact_sha256 ~ '^[0-9a-f]{64}$'),
    library_versions   jsonb            NOT NULL,
    model_card_path    text             NOT NULL,
    run_key            text             NOT NULL UNIQUE,  -- one registration per training run (retry-safe)
    created_at         timestamptz      NOT NULL DEFAULT now(),
    status_changed_at  timestamptz      NOT NULL DEFAULT now(),
    -- Who changed the status last and why (a rollback records both; promotions by the gate leave
    -- them empty).
    status_changed_by  text,
    status_reason      text
);

-- At most one champion, enforced by the database; promotion retires the old one first, in the
-- same transaction, so readers always see exactly one once the first model was promoted.
CREATE UNIQUE INDEX IF NOT EXISTS model_registry_one_champion
    ON ml.model_registry (status) WHERE status = 'champion';

CREATE INDEX IF NOT EXISTS model_registry_created_at ON ml.model_registry (created_at);
