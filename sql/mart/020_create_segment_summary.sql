-- mart: what BI reads (see 010). Per segment over the customers of the newest scored snapshot date.
CREATE OR REPLACE VIEW mart.segment_summary AS
WITH newest AS (
    SELECT * FROM scoring.latest_scores WHERE in_newest_snapshot
),

per_segment AS (
    SELECT
        rules_version,
        segment,
        score_date,
        count(*) AS customers,
        avg(churn_probability) AS mean_churn_probability,
        count(*) FILTER (WHERE risk_band = 'high') AS high_risk_customers,
        sum(profit) AS total_profit,
        sum(profit_at_risk) AS profit_at_risk,
        count(*) FILTER (WHERE offer_group = 'holdout') AS holdout_customers
    FROM newest
    GROUP BY rules_version, segment, score_date
)

SELECT
    per_segment.segment AS segment_code,
    rules.title AS segment_title,
    rules.precedence AS segment_precedence,
    rules.offer_code,
    rules.offer AS offer_text,
    per_segment.customers,
    round(per_segment.customers::numeric / sum(per_segment.customers) OVER (), 4)::double precision AS share_of_customers,
    round(per_segment.mean_churn_probability::numeric, 3)::double precision AS mean_churn_probability,
    per_segment.high_risk_customers,
    round(per_segment.total_profit::numeric, 2)::double precision AS total_profit,
    round(per_segment.profit_at_risk::numeric, 2)::double precision AS profit_at_risk,
    per_segment.score_date,
    per_segment.rules_version,
    per_segment.holdout_customers
FROM per_segment
LEFT JOIN scoring.segment_rules AS rules
    ON rules.rules_version = per_segment.rules_version AND rules.segment = per_segment.segment;

COMMENT ON VIEW mart.segment_summary IS
    'One row per segment over the customers of the newest score date (mart.churn_scores_latest where in_newest_snapshot): size, mean churn probability, monthly profit and profit at risk.';
COMMENT ON COLUMN mart.segment_summary.segment_code IS 'Stable segment code (config/segments.yaml).';
COMMENT ON COLUMN mart.segment_summary.segment_title IS 'Human-readable segment name in Russian; starts with the risk band.';
COMMENT ON COLUMN mart.segment_summary.segment_precedence IS 'Order in which the segment rule is checked (1 first); sort by it.';
COMMENT ON COLUMN mart.segment_summary.offer_code IS 'Stable code of the segment''s offer.';
COMMENT ON COLUMN mart.segment_summary.offer_text IS 'The segment''s offer in Russian.';
COMMENT ON COLUMN mart.segment_summary.customers IS 'Customers of the newest score date in this segment (count).';
COMMENT ON COLUMN mart.segment_summary.share_of_customers IS 'customers / all customers of the newest score date (0..1, 4 decimals).';
COMMENT ON COLUMN mart.segment_summary.mean_churn_probability IS 'Mean churn probability of the segment''s customers (0..1, 3 decimals).';
COMMENT ON COLUMN mart.segment_summary.high_risk_customers IS 'Customers in risk band high (count).';
COMMENT ON COLUMN mart.segment_summary.total_profit IS 'Sum of the customers'' average monthly profit, in the export''s money unit per month (money.csv «Прибыль»), 2 decimals.';
COMMENT ON COLUMN mart.segment_summary.profit_at_risk IS 'Sum of churn_probability × profit: expected monthly profit lost without action, same unit, 2 decimals.';
COMMENT ON COLUMN mart.segment_summary.score_date IS 'The newest score date the figures are for.';
COMMENT ON COLUMN mart.segment_summary.rules_version IS 'Version of config/segments.yaml behind the segment and offer.';
COMMENT ON COLUMN mart.segment_summary.holdout_customers IS 'Customers of the segment in the experiment''s holdout (count): they get no offer; customers minus this is the offer list.';
