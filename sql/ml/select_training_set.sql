-- Training rows of :snapshot_date: customers passing «active 3 months» with a known label,
-- in customer order (the CV splits depend on row order, so it must be stable).
WITH features AS (
    SELECT * FROM features.customer_features WHERE snapshot_date = :snapshot_date
)

SELECT
    customer_id,
    churn_label,
    service_type,
    popular_category,
    allow_messages,
    marketing_6m,
    marketing_current_month,
    tenure_days,
    promo_share,
    avg_categories_per_visit,
    unpaid_items_quarter,
    service_errors,
    pages_per_visit,
    revenue_two_months_ago,
    revenue_last_month,
    revenue_current_month,
    minutes_last_month,
    minutes_current_month,
    profit
FROM features
WHERE is_active_3m
    AND churn_label IS NOT NULL
ORDER BY customer_id;
