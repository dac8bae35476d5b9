-- staging: cleaned copies of raw, one row set per snapshot_date (replaced on rebuild).
-- UNLOGGED: every churn_ingest run rebuilds its date's rows from raw, so they need no WAL. A server
-- crash empties them; build_features then rebuilds the date's staging from raw (logged) first.
CREATE UNLOGGED TABLE IF NOT EXISTS staging.customers (
    snapshot_date             date    NOT NULL,
    customer_id               bigint  NOT NULL,
    churn_label               smallint,          -- 1 = «Снизилась», 0 = «Прежний уровень», NULL = unknown
    service_type              text    NOT NULL,  -- премиум / стандарт («стандартт» fixed)
    allow_messages            boolean NOT NULL,
    marketing_6m              double precision NOT NULL,
    marketing_current_month   integer NOT NULL,
    tenure_days               integer NOT NULL,
    promo_share               double precision NOT NULL,
    popular_category          text    NOT NULL,  -- «Косметика и аксесуары» spelled «аксессуары»
    avg_categories_per_visit  integer NOT NULL,
    unpaid_items_quarter      integer NOT NULL,
    service_errors            integer NOT NULL,
    pages_per_visit           integer NOT NULL,
    PRIMARY KEY (snapshot_date, customer_id)
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging.revenue (
    snapshot_date     date    NOT NULL,
    customer_id       bigint  NOT NULL,
    period            text    NOT NULL,          -- two_months_ago / last_month / current_month
    revenue_reported  double precision NOT NULL, -- as exported
    revenue           double precision NOT NULL, -- after the outlier rule
    is_outlier        boolean NOT NULL,
    PRIMARY KEY (snapshot_date, customer_id, period)
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging.minutes (
    snapshot_date  date    NOT NULL,
    customer_id    bigint  NOT NULL,
    period         text    NOT NULL,             -- last_month / current_month («предыдцщий» fixed)
    minutes        integer NOT NULL,
    PRIMARY KEY (snapshot_date, customer_id, period)
);

CREATE UNLOGGED TABLE IF NOT EXISTS staging.profit (
    snapshot_date  date    NOT NULL,
    customer_id    bigint  NOT NULL,
    profit         double precision NOT NULL,
    PRIMARY KEY (snapshot_date, customer_id)
);
