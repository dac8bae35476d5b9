-- The newest snapshot that has «active 3 months» customers to score (NULL when none).
SELECT max(snapshot_date) AS snapshot_date
FROM features.customer_features
WHERE is_active_3m;
