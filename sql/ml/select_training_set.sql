-- Training rows of :snapshot_date: customers passing «active 3 months» with a known label,
-- in customer order (the CV splits depend on row order, so it must be stable).
SELECT *
FROM features.model_input
WHERE snapshot_date = :snapshot_date
    AND churn_label IS NOT NULL
ORDER BY customer_id;
