-- The staged scores of :score_date with the features the uplift models read (the targeting step,
-- ml/uplift/steps.py), in customer order.
SELECT
    staged.churn_probability,
    staged.segment,
    features.*
FROM scoring.churn_scores_staged AS staged
JOIN features.model_input AS features
    ON features.snapshot_date = staged.score_date AND features.customer_id = staged.customer_id
WHERE staged.score_date = :score_date
ORDER BY staged.customer_id;
