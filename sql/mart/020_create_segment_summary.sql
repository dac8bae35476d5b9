-- mart: what BI reads. Views only, over scoring.*; they run with their owner's rights, so BI
-- needs no grants on scoring/raw/ml (sql/mart/040_grant_bi_reader.sql).
-- Changing a view's columns needs DROP VIEW first (CREATE OR REPLACE only appends columns).

-- Per segment over the newest scores: size, mean probability, profit at risk.
CREATE OR REPLACE VIEW mart.segment_summary AS
WITH latest AS (
    SELECT * FROM mart.churn_scores_latest
)

SELECT
    segment,
    (array_agg(segment_title ORDER BY score_date DESC))[1] AS segment_title,
    min(segment_precedence) AS segment_precedence,
    (array_agg(offer ORDER BY score_date DESC))[1] AS offer,
    count(*) AS customers,
    count(*)::double precision / sum(count(*)) OVER () AS share_of_customers,
    avg(churn_probability) AS mean_churn_probability,
    count(*) FILTER (WHERE risk_band = 'high') AS high_risk_customers,
    sum(profit) AS total_profit,
    sum(profit_at_risk) AS profit_at_risk,
    max(score_date) AS latest_score_date
FROM latest
GROUP BY segment;

COMMENT ON VIEW mart.segment_summary IS
    'One row per segment over mart.churn_scores_latest: customers, mean churn probability and monthly profit at risk.';
COMMENT ON COLUMN mart.segment_summary.segment IS 'Segment code (config/segments.yaml).';
COMMENT ON COLUMN mart.segment_summary.segment_title IS 'Human-readable segment name.';
COMMENT ON COLUMN mart.segment_summary.segment_precedence IS 'Order in which the segment rule is checked (1 first); sort by it.';
COMMENT ON COLUMN mart.segment_summary.offer IS 'The segment''s offer text.';
COMMENT ON COLUMN mart.segment_summary.customers IS 'Customers whose newest score is in this segment.';
COMMENT ON COLUMN mart.segment_summary.share_of_customers IS 'customers / all scored customers (0..1).';
COMMENT ON COLUMN mart.segment_summary.mean_churn_probability IS 'Mean churn probability of the segment''s customers.';
COMMENT ON COLUMN mart.segment_summary.high_risk_customers IS 'Customers in risk band high.';
COMMENT ON COLUMN mart.segment_summary.total_profit IS 'Sum of the customers'' average monthly profit.';
COMMENT ON COLUMN mart.segment_summary.profit_at_risk IS 'Sum of churn_probability × profit: expected monthly profit lost without action.';
COMMENT ON COLUMN mart.segment_summary.latest_score_date IS 'Newest score date among the segment''s customers.';
