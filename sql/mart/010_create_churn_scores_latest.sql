-- mart: what BI reads. Views only, over scoring.*; they run with their owner's rights, so BI
-- needs no grants on scoring/raw/ml (sql/mart/040_grant_bi_reader.sql).
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
    reasons.texts AS top_factors,
    reasons.detail AS top_factors_detail,
    latest.rules_version,
    latest.scored_at
FROM latest
LEFT JOIN rules USING (rules_version, segment)
LEFT JOIN LATERAL (
    -- Each stored reason with its text: the rule version's phrase ({value}: the category), or
    -- the text a score row of an older warehouse still carries, or "feature: direction".
    SELECT
        string_agg(explained.text, '; ' ORDER BY explained.position) AS texts,
        coalesce(jsonb_agg(explained.factor || jsonb_build_object('text', explained.text)
                           ORDER BY explained.position), '[]'::jsonb) AS detail
    FROM (
        SELECT
            factor.position,
            factor.value AS factor,
            coalesce(
                factor.value ->> 'text',
                replace(phrase.phrase, '{value}', coalesce(factor.value ->> 'value', '')),
                concat(factor.value ->> 'feature', ': ', factor.value ->> 'direction')
            ) AS text
        FROM jsonb_array_elements(latest.top_factors) WITH ORDINALITY AS factor (value, position)
        LEFT JOIN scoring.factor_phrases AS phrase
            ON phrase.rules_version = latest.rules_version
            AND phrase.feature = factor.value ->> 'feature'
            AND phrase.direction = factor.value ->> 'direction'
    ) AS explained
) AS reasons ON true;

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
