-- staging.minutes for :snapshot_date — English period keys («предыдцщий_месяц» typo fixed).
DELETE FROM staging.minutes WHERE snapshot_date = :snapshot_date;

WITH source AS (
    SELECT * FROM raw.market_time WHERE snapshot_date = :snapshot_date
),

renamed AS (
    SELECT
        snapshot_date,
        customer_id,
        CASE period
            WHEN 'предыдцщий_месяц' THEN 'last_month'
            WHEN 'предыдущий_месяц' THEN 'last_month'
            WHEN 'текущий_месяц' THEN 'current_month'
        END AS period,
        minutes
    FROM source
)

INSERT INTO staging.minutes
SELECT * FROM renamed;
