-- features.model_input: what the model reads — «active 3 months» customers with their key, label
-- and the model's input columns (ml/features.py FEATURES). Training and scoring both select here.
CREATE OR REPLACE VIEW features.model_input AS
SELECT
    snapshot_date,
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
FROM features.customer_features
WHERE is_active_3m;
