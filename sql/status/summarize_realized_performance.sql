-- Realized performance of every scored snapshot date, oldest first (`make run`'s summary).
SELECT score_date, model_version, status, status_text, settled_by, settled_customers, evaluated_on,
       evaluated_customers, roc_auc, roc_auc_low,
       roc_auc_high, brier_score, cv_roc_auc, cv_roc_auc_spread, realized_churn_rate, mean_predicted_probability
FROM mart.realized_performance
ORDER BY score_date, model_version;
