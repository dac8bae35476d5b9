-- features.customer_features: the model's only input, one row per (snapshot_date, customer_id),
-- one LIST partition per snapshot_date.

CREATE TABLE IF NOT EXISTS features.customer_features (
    snapshot_date             date    NOT NULL,
    customer_id               bigint  NOT NULL,
    churn_label               smallint,
    service_type              text    NOT NULL,
    allow_messages            boolean NOT NULL,
    marketing_6m              double precision NOT NULL,
    marketing_current_month   integer NOT NULL,
    tenure_days               integer NOT NULL,
    promo_share               double precision NOT NULL,
    popular_category          text    NOT NULL,
    avg_categories_per_visit  integer NOT NULL,
    unpaid_items_quarter      integer NOT NULL,
    service_errors            integer NOT NULL,
    pages_per_visit           integer NOT NULL,
    revenue_two_months_ago    double precision NOT NULL,
    revenue_last_month        double precision NOT NULL,
    revenue_current_month     double precision NOT NULL,
    revenue_outlier_fixed     boolean NOT NULL,
    minutes_last_month        integer NOT NULL,
    minutes_current_month     integer NOT NULL,
    profit                    double precision NOT NULL,
    is_active_3m              boolean NOT NULL,  -- revenue > 0 in all three periods (modelled)
    PRIMARY KEY (snapshot_date, customer_id)
) PARTITION BY LIST (snapshot_date);

-- Write-audit-publish: a snapshot's features are built into its partition here, gated by GX, and
-- only then is that partition moved into customer_features (ops.publish_partition, by
-- sql/features/publish_customer_features.sql), so training and scoring never see an ungated
-- snapshot and a failed rerun leaves the published rows of its date intact. Logged: a gated
-- batch survives a crash (its build, into a partition emptied in the same transaction, writes no
-- WAL under wal_level=minimal).
CREATE TABLE IF NOT EXISTS features.customer_features_staged
    (LIKE features.customer_features INCLUDING ALL) PARTITION BY LIST (snapshot_date);
