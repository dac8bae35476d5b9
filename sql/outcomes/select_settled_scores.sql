-- Every published score of :score_date with what happened by :settled_by. churned: the label the
-- customer carries there (NULL: missing from that snapshot or unlabelled, so unsettled, never
-- «Снизилась»); revenue_change: their revenue over the 3 months before :settled_by minus over
-- the 3 months before :score_date, in the export's money unit.
SELECT
    scores.customer_id,
    scores.model_version,
    scores.churn_probability,
    scores.segment,
    coalesce(rules.offer_code, scores.segment) AS offer_code,
    scores.rules_version,
    scores.offer_group,
    scores.treatment_probability,
    later.churn_label AS churned,
    (later.revenue_two_months_ago + later.revenue_last_month + later.revenue_current_month)
        - (scored.revenue_two_months_ago + scored.revenue_last_month + scored.revenue_current_month)
        AS revenue_change
FROM scoring.churn_scores AS scores
JOIN features.customer_features AS scored
    ON scored.snapshot_date = scores.score_date AND scored.customer_id = scores.customer_id
LEFT JOIN features.customer_features AS later
    ON later.snapshot_date = :settled_by AND later.customer_id = scores.customer_id
LEFT JOIN scoring.segment_rules AS rules
    ON rules.rules_version = scores.rules_version AND rules.segment = scores.segment
WHERE scores.score_date = :score_date
ORDER BY scores.customer_id;
