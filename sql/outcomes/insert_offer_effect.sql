INSERT INTO outcomes.offer_effects (
    score_date, segment, offer_code, rules_version, settled_by, treated_customers, holdout_customers,
    treated_churn_rate, holdout_churn_rate, churn_rate_difference, churn_rate_difference_low,
    churn_rate_difference_high, churn_p_value, treated_revenue_change, holdout_revenue_change,
    revenue_change_difference, revenue_change_difference_low, revenue_change_difference_high,
    verdict, confidence, min_group
) VALUES (
    :score_date, :segment, :offer_code, :rules_version, :settled_by, :treated_customers, :holdout_customers,
    :treated_churn_rate, :holdout_churn_rate, :churn_rate_difference, :churn_rate_difference_low,
    :churn_rate_difference_high, :churn_p_value, :treated_revenue_change, :holdout_revenue_change,
    :revenue_change_difference, :revenue_change_difference_low, :revenue_change_difference_high,
    :verdict, :confidence, :min_group
);
