-- features.customer_features_staged for :snapshot_date (published after the GX gate) — one row per customer: profile, revenue and
-- minutes pivoted by period, profit, and the «active 3 months» flag (revenue > 0 in all periods).
SELECT ops.replace_partition('features.customer_features_staged', :snapshot_date);

WITH customers AS (
    SELECT * FROM staging.customers WHERE snapshot_date = :snapshot_date
),

revenue AS (
    SELECT
        customer_id,
        max(revenue) FILTER (WHERE period = 'two_months_ago') AS revenue_two_months_ago,
        max(revenue) FILTER (WHERE period = 'last_month') AS revenue_last_month,
        max(revenue) FILTER (WHERE period = 'current_month') AS revenue_current_month,
        bool_or(is_outlier) AS revenue_outlier_fixed
    FROM staging.revenue
    WHERE snapshot_date = :snapshot_date
    GROUP BY customer_id
),

minutes AS (
    SELECT
        customer_id,
        max(minutes) FILTER (WHERE period = 'last_month') AS minutes_last_month,
        max(minutes) FILTER (WHERE period = 'current_month') AS minutes_current_month
    FROM staging.minutes
    WHERE snapshot_date = :snapshot_date
    GROUP BY customer_id
),

profit AS (
    SELECT customer_id, profit FROM staging.profit WHERE snapshot_date = :snapshot_date
)

-- Columns by name on both sides: a column added to the table must be added here too
-- (tests/integration/test_features.py checks every one is written).
INSERT INTO features.customer_features_staged (
    snapshot_date, customer_id, churn_label, service_type, allow_messages, marketing_6m,
    marketing_current_month, tenure_days, promo_share, popular_category, avg_categories_per_visit,
    unpaid_items_quarter, service_errors, pages_per_visit, revenue_two_months_ago,
    revenue_last_month, revenue_current_month, revenue_outlier_fixed, minutes_last_month,
    minutes_current_month, profit, is_active_3m
)
SELECT
    customers.snapshot_date,
    customers.customer_id,
    customers.churn_label,
    customers.service_type,
    customers.allow_messages,
    customers.marketing_6m,
    customers.marketing_current_month,
    customers.tenure_days,
    customers.promo_share,
    customers.popular_category,
    customers.avg_categories_per_visit,
    customers.unpaid_items_quarter,
    customers.service_errors,
    customers.pages_per_visit,
    revenue.revenue_two_months_ago,
    revenue.revenue_last_month,
    revenue.revenue_current_month,
    revenue.revenue_outlier_fixed,
    minutes.minutes_last_month,
    minutes.minutes_current_month,
    profit.profit,
    revenue.revenue_two_months_ago > 0
        AND revenue.revenue_last_month > 0
        AND revenue.revenue_current_month > 0 AS is_active_3m
FROM customers
JOIN revenue USING (customer_id)
JOIN minutes USING (customer_id)
JOIN profit USING (customer_id);
