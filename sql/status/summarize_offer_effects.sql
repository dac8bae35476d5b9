-- The offer effects of the newest settled snapshot date, by segment precedence (`make run`'s summary).
SELECT score_date, segment_code, offer_code, verdict, verdict_text, treated_customers, holdout_customers,
       treated_churn_rate, holdout_churn_rate, churn_rate_difference, churn_rate_difference_low,
       churn_rate_difference_high, revenue_change_difference
FROM mart.offer_effects
WHERE score_date = (SELECT max(score_date) FROM outcomes.offer_effects)
ORDER BY segment_precedence;
