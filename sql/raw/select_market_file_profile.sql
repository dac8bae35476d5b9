-- Count, mean and standard deviation of every numeric feature column of raw.market_file for
-- :snapshot_date, in one scan: each row is unpivoted into (column_name, value) pairs.
-- Values are clamped to ±1e100 so the sums of squares cannot overflow double precision (the
-- loader lets through anything below 1e300; the gate's ranges reject such values later).
SELECT
    u.column_name,
    count(*) AS n,
    avg(least(greatest(u.value, -1e100::double precision), 1e100::double precision)) AS mean,
    coalesce(stddev_samp(least(greatest(u.value, -1e100::double precision), 1e100::double precision)), 0) AS sd
FROM raw.market_file AS m
CROSS JOIN LATERAL (VALUES
    ('marketing_6m', m.marketing_6m),
    ('marketing_current_month', m.marketing_current_month::double precision),
    ('tenure_days', m.tenure_days::double precision),
    ('promo_share', m.promo_share),
    ('avg_categories_per_visit', m.avg_categories_per_visit::double precision),
    ('unpaid_items_quarter', m.unpaid_items_quarter::double precision),
    ('service_errors', m.service_errors::double precision),
    ('pages_per_visit', m.pages_per_visit::double precision)
) AS u (column_name, value)
WHERE m.snapshot_date = :snapshot_date
GROUP BY u.column_name;
