-- Published scores of :score_date for the run summary: rows, model and its CV metric, mean
-- probability, risk bands, monthly profit at risk.
WITH scores AS (
    SELECT * FROM scoring.churn_scores WHERE score_date = :score_date
),

model AS (
    SELECT model_version, cv_roc_auc_mean, cv_roc_auc_std, threshold FROM ml.model_registry
)

SELECT
    count(*) AS rows_scored,
    min(scores.model_version) AS model_version,
    min(model.cv_roc_auc_mean) AS cv_roc_auc_mean,
    min(model.cv_roc_auc_std) AS cv_roc_auc_std,
    min(model.threshold) AS threshold,
    avg(scores.churn_probability) AS mean_probability,
    count(*) FILTER (WHERE scores.risk_band = 'high') AS high,
    count(*) FILTER (WHERE scores.risk_band = 'medium') AS medium,
    count(*) FILTER (WHERE scores.risk_band = 'low') AS low,
    sum(scores.churn_probability * scores.profit) AS profit_at_risk,
    min(scores.rules_version) AS rules_version
FROM scores
LEFT JOIN model USING (model_version);
