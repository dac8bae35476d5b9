-- The customers scored for :score_date: «active 3 months» rows of the snapshot's features, in
-- customer order (streamed in chunks by ml/scoring.py; columns = model inputs + key).
WITH snapshot AS (
    SELECT * FROM features.customer_features WHERE snapshot_date = :score_date
)

SELECT
    customer_id,
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
FROM snapshot
WHERE is_active_3m
ORDER BY customer_id;
