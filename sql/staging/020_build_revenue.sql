-- staging.revenue for :snapshot_date — English period keys and the documented outlier rule:
-- a month whose revenue is more than 5x the mean of the customer's other two months (both > 0)
-- is an entry error; it is replaced by that mean and flagged (real export: only id 215380,
-- current month 106862.2 vs 5051.0 / 6077.0; the next highest ratio in the file is 1.6x).
DELETE FROM staging.revenue WHERE snapshot_date = :snapshot_date;

WITH source AS (
    SELECT * FROM raw.market_money WHERE snapshot_date = :snapshot_date
),

renamed AS (
    SELECT
        snapshot_date,
        customer_id,
        CASE period
            WHEN 'препредыдущий_месяц' THEN 'two_months_ago'
            WHEN 'предыдущий_месяц' THEN 'last_month'
            WHEN 'текущий_месяц' THEN 'current_month'
        END AS period,
        revenue
    FROM source
),

with_other_months AS (
    SELECT
        renamed.*,
        (sum(revenue) OVER customer - revenue) / nullif(count(*) OVER customer - 1, 0) AS others_mean,
        min(revenue) FILTER (WHERE revenue <= 0) OVER customer IS NULL AS all_positive
    FROM renamed
    WINDOW customer AS (PARTITION BY customer_id)
),

flagged AS (
    SELECT
        *,
        coalesce(all_positive AND revenue > 5 * others_mean, false) AS is_outlier
    FROM with_other_months
)

INSERT INTO staging.revenue (snapshot_date, customer_id, period, revenue_reported, revenue, is_outlier)
SELECT
    snapshot_date,
    customer_id,
    period,
    revenue,
    CASE WHEN is_outlier THEN round(others_mean::numeric, 1)::double precision ELSE revenue END,
    is_outlier
FROM flagged;
