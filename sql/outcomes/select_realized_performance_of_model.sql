-- A model's realized performance, newest snapshot date first (the promotion gate and `make run`).
SELECT score_date, settled_by, settled_customers, evaluated_on, customers, churned, roc_auc, roc_auc_low, roc_auc_high, brier_score,
       cv_roc_auc_mean, cv_roc_auc_std, below_cv
FROM outcomes.realized_performance
WHERE model_version = :model_version
ORDER BY score_date DESC;
