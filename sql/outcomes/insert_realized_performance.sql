INSERT INTO outcomes.realized_performance (
    score_date, model_version, settled_by, scored_customers, settled_customers, evaluated_on, customers, churned,
    mean_probability,
    roc_auc, roc_auc_low, roc_auc_high, brier_score, cv_roc_auc_mean, cv_roc_auc_std, below_cv,
    confidence
) VALUES (
    :score_date, :model_version, :settled_by, :scored_customers, :settled_customers, :evaluated_on, :customers, :churned,
    :mean_probability,
    :roc_auc, :roc_auc_low, :roc_auc_high, :brier_score, :cv_roc_auc_mean, :cv_roc_auc_std, :below_cv,
    :confidence
);
