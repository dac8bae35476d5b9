-- The newest snapshot on or before :as_of that has labelled «active 3 months» customers
-- (the training set of a retrain run). NULL when there is none.
SELECT max(snapshot_date) AS snapshot_date
FROM features.customer_features
WHERE snapshot_date <= :as_of
    AND is_active_3m
    AND churn_label IS NOT NULL;
