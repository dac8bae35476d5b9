-- Staged feature rows for :snapshot_date (before the gate): customers and active customers.
SELECT
    count(*) AS customers,
    count(*) FILTER (WHERE is_active_3m) AS active_customers,
    count(*) FILTER (WHERE is_active_3m AND churn_label = 1) AS active_label_churn,
    count(*) FILTER (WHERE is_active_3m AND churn_label = 0) AS active_label_stable
FROM features.customer_features_staged
WHERE snapshot_date = :snapshot_date;
