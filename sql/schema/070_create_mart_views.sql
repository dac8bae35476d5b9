-- mart: what BI reads. Views only, over scoring.*; the NOLOGIN role churn_bi_reader may select
-- from mart and nothing else (views run with their owner's rights, so no grants on scoring/raw/ml
-- are needed). Give a BI login the role: CREATE ROLE <bi_user> LOGIN PASSWORD '…' IN ROLE churn_bi_reader;
-- Changing a view's columns needs DROP VIEW first (CREATE OR REPLACE only appends columns).

-- The newest score of every customer.
CREATE OR REPLACE VIEW mart.churn_scores_latest AS
WITH latest AS (
    SELECT DISTINCT ON (customer_id) *
    FROM scoring.churn_scores
    ORDER BY customer_id, score_date DESC
),

rules AS (
    SELECT rules_version, segment, title, precedence FROM scoring.segment_rules
)

SELECT
    latest.customer_id,
    latest.score_date,
    latest.churn_probability,
    latest.risk_band,
    latest.segment,
    rules.title AS segment_title,
    rules.precedence AS segment_precedence,
    latest.offer,
    latest.profit,
    latest.churn_probability * latest.profit AS profit_at_risk,
    latest.model_version,
    (
        SELECT string_agg(factor.value ->> 'text', '; ' ORDER BY factor.position)
        FROM jsonb_array_elements(latest.top_factors) WITH ORDINALITY AS factor (value, position)
    ) AS top_factors,
    latest.top_factors AS top_factors_detail,
    latest.rules_version,
    latest.scored_at
FROM latest
LEFT JOIN rules USING (rules_version, segment);

COMMENT ON VIEW mart.churn_scores_latest IS
    'The newest churn score of every customer (one row per customer) with risk band, segment, offer, profit and the reasons behind the score.';
COMMENT ON COLUMN mart.churn_scores_latest.customer_id IS 'Customer id as in the store''s export.';
COMMENT ON COLUMN mart.churn_scores_latest.score_date IS 'Snapshot date of this score (the newest one scored for the customer).';
COMMENT ON COLUMN mart.churn_scores_latest.churn_probability IS 'Calibrated probability (0..1) that the customer''s purchasing activity drops in the coming months.';
COMMENT ON COLUMN mart.churn_scores_latest.risk_band IS 'high: probability >= the model threshold (catches 80 % of customers whose activity drops); medium: >= half the threshold; low: below.';
COMMENT ON COLUMN mart.churn_scores_latest.segment IS 'Segment code (config/segments.yaml); every customer has exactly one, by rule precedence.';
COMMENT ON COLUMN mart.churn_scores_latest.segment_title IS 'Human-readable segment name.';
COMMENT ON COLUMN mart.churn_scores_latest.segment_precedence IS 'Order in which the segment rule is checked (1 first); use it to sort segments.';
COMMENT ON COLUMN mart.churn_scores_latest.offer IS 'The offer for this customer''s segment, short text for the campaign.';
COMMENT ON COLUMN mart.churn_scores_latest.profit IS 'Average monthly profit from the customer over the last 3 months.';
COMMENT ON COLUMN mart.churn_scores_latest.profit_at_risk IS 'churn_probability × profit: expected monthly profit lost if nothing is done.';
COMMENT ON COLUMN mart.churn_scores_latest.model_version IS 'Model that produced the score (ml.model_registry).';
COMMENT ON COLUMN mart.churn_scores_latest.top_factors IS 'Up to 3 readable reasons that raise this customer''s probability most, strongest first, separated by "; ".';
COMMENT ON COLUMN mart.churn_scores_latest.top_factors_detail IS 'The same reasons as JSON: [{feature, direction, text, impact}], impact = how much lower the probability would be with that feature at its typical (training median/mode) value.';
COMMENT ON COLUMN mart.churn_scores_latest.rules_version IS 'Version of the segment rule file that assigned segment and offer.';
COMMENT ON COLUMN mart.churn_scores_latest.scored_at IS 'When the score was computed.';

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

-- Drift monitoring for BI: PSI of each model input and of the score, per scoring run.
CREATE OR REPLACE VIEW mart.model_drift AS
SELECT
    score_date,
    model_version,
    variable,
    variable_kind,
    psi,
    status,
    customers,
    reference_snapshot,
    reference_rows,
    score_date = (SELECT max(score_date) FROM scoring.drift_psi) AS is_latest_run,
    computed_at
FROM scoring.drift_psi;

COMMENT ON VIEW mart.model_drift IS
    'Population stability index (PSI) of each model input and of the churn probability against the model''s training snapshot, one row per variable per scoring run.';
COMMENT ON COLUMN mart.model_drift.score_date IS 'Snapshot that was scored.';
COMMENT ON COLUMN mart.model_drift.model_version IS 'Model whose training snapshot is the reference.';
COMMENT ON COLUMN mart.model_drift.variable IS 'Model input column, or churn_probability for the score distribution.';
COMMENT ON COLUMN mart.model_drift.variable_kind IS 'feature or score.';
COMMENT ON COLUMN mart.model_drift.psi IS 'Population stability index over the training deciles (categories for categorical inputs); 0 = same distribution.';
COMMENT ON COLUMN mart.model_drift.status IS 'stable: PSI < 0.1; watch: 0.1..0.2; shifted: > 0.2 (logged as a warning; consider retraining).';
COMMENT ON COLUMN mart.model_drift.customers IS 'Scored customers compared with the reference.';
COMMENT ON COLUMN mart.model_drift.reference_snapshot IS 'Training snapshot of the model.';
COMMENT ON COLUMN mart.model_drift.reference_rows IS 'Training rows of the model.';
COMMENT ON COLUMN mart.model_drift.is_latest_run IS 'True for the newest scored date.';
COMMENT ON COLUMN mart.model_drift.computed_at IS 'When the PSI was computed.';

-- The read-only BI role. Roles are cluster-wide: create it once (several warehouse or test
-- databases may share a server and run this concurrently); grants are per database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'churn_bi_reader') THEN
        BEGIN
            CREATE ROLE churn_bi_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA mart TO churn_bi_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO churn_bi_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO churn_bi_reader;
