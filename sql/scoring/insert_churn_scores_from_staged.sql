-- Publish the validated staged scores of :score_date.
INSERT INTO scoring.churn_scores (
    score_date, customer_id, model_version, churn_probability, risk_band, segment, offer,
    top_factors, profit, rules_version, scored_at
)
SELECT
    score_date, customer_id, model_version, churn_probability, risk_band, segment, offer,
    top_factors, profit, rules_version, scored_at
FROM scoring.churn_scores_staged
WHERE score_date = :score_date;
