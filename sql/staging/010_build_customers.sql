-- staging.customers for :snapshot_date — typo in service tier fixed, label and consent typed.
DELETE FROM staging.customers WHERE snapshot_date = :snapshot_date;

WITH source AS (
    SELECT * FROM raw.market_file WHERE snapshot_date = :snapshot_date
),

cleaned AS (
    SELECT
        snapshot_date,
        customer_id,
        CASE activity
            WHEN 'Снизилась' THEN 1
            WHEN 'Прежний уровень' THEN 0
        END::smallint AS churn_label,
        CASE service_type WHEN 'стандартт' THEN 'стандарт' ELSE service_type END AS service_type,
        allow_messages = 'да' AS allow_messages,
        marketing_6m,
        marketing_current_month,
        tenure_days,
        promo_share,
        CASE popular_category
            WHEN 'Косметика и аксесуары' THEN 'Косметика и аксессуары'
            ELSE popular_category
        END AS popular_category,
        avg_categories_per_visit,
        unpaid_items_quarter,
        service_errors,
        pages_per_visit
    FROM source
)

INSERT INTO staging.customers
SELECT * FROM cleaned;
