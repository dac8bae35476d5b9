-- mart: what BI reads. Views only, over scoring.*; they run with their owner's rights, so BI
-- needs no grants on scoring/raw/ml (sql/mart/080_grant_bi_reader.sql). Numbers are rounded to
-- what they mean (probabilities 0.001, money 0.01; double precision, so tools need no decimal
-- type); units are in the column comments.

-- The newest score of every customer, with segment, offer and the reasons behind the score.
CREATE OR REPLACE VIEW mart.churn_scores_latest AS
SELECT
    latest.customer_id,
    latest.score_date,
    latest.in_newest_snapshot,
    round(latest.churn_probability::numeric, 3)::double precision AS churn_probability,
    latest.risk_band,
    latest.segment AS segment_code,
    rules.title AS segment_title,
    rules.precedence AS segment_precedence,
    rules.offer_code,
    latest.offer AS offer_text,
    latest.offer_group,
    coalesce(latest.send_offer, latest.offer_group = 'treatment') AS send_offer,
    coalesce(latest.policy, 'rules') AS policy,
    round(latest.expected_uplift::numeric, 3)::double precision AS expected_uplift,
    round(latest.expected_value::numeric, 2)::double precision AS expected_value,
    round(latest.contact_cost::numeric, 2)::double precision AS contact_cost,
    round(latest.profit::numeric, 2)::double precision AS profit,
    latest.profit_at_risk,
    latest.model_version,
    reasons.texts AS top_factors,
    reasons.detail AS top_factors_detail,
    latest.rules_version,
    latest.scored_at
FROM scoring.latest_scores AS latest
LEFT JOIN scoring.segment_rules AS rules
    ON rules.rules_version = latest.rules_version AND rules.segment = latest.segment
LEFT JOIN LATERAL (
    -- Each stored reason with its text: the text a score row carries itself (rows scored before
    -- phrases were stored per rule version are kept in the history), or the rule version's
    -- phrase ({value}: the category), or "feature: direction".
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
    'The newest churn score of every customer ever scored (one row per customer): risk band, segment, offer, profit and the reasons. Filter in_newest_snapshot for the customers of the newest export. Fast: ORDER BY profit_at_risk DESC LIMIT n reads an index.';
COMMENT ON COLUMN mart.churn_scores_latest.customer_id IS 'Customer id as in the store''s export (market_file.csv id).';
COMMENT ON COLUMN mart.churn_scores_latest.score_date IS 'Snapshot date (export date) of this score: the newest one scored for the customer.';
COMMENT ON COLUMN mart.churn_scores_latest.in_newest_snapshot IS 'True when the customer was scored on the newest score date; false: missing from the newest export or not «active 3 months» there any more (the row is their last score, from score_date).';
COMMENT ON COLUMN mart.churn_scores_latest.churn_probability IS 'Probability (0..1, 3 decimals) that the customer''s purchasing activity drops («Снизилась») over the next 3 months.';
COMMENT ON COLUMN mart.churn_scores_latest.risk_band IS 'high: churn_probability >= the model''s threshold (catches 80 % of customers whose activity drops); medium: >= half the threshold (watch list); low: below. The segment title always starts with it.';
COMMENT ON COLUMN mart.churn_scores_latest.segment_code IS 'Stable segment code (config/segments.yaml, e.g. abandoned_cart): join and filter on it; titles may be reworded.';
COMMENT ON COLUMN mart.churn_scores_latest.segment_title IS 'Human-readable segment name in Russian; starts with the risk band («Высокий риск», «Средний риск», «Низкий риск»).';
COMMENT ON COLUMN mart.churn_scores_latest.segment_precedence IS 'Order in which the segment rule is checked (1 first); sort segments by it.';
COMMENT ON COLUMN mart.churn_scores_latest.offer_code IS 'Stable code of the segment''s offer (e.g. cart_reminder_free_delivery): what campaign tools join on.';
COMMENT ON COLUMN mart.churn_scores_latest.offer_text IS 'The offer in Russian, as the campaign shows it (at most 200 characters).';
COMMENT ON COLUMN mart.churn_scores_latest.offer_group IS 'treatment or holdout: the offer experiment''s random groups (holdout share per segment, config/segments.yaml `experiment`; stable per customer while the campaign and segment stay), so mart.offer_effects can tell what the offer changed; targeted / not_targeted: chosen by the policy outside the experiment (mart.targeting_summary says which policy and why).';
COMMENT ON COLUMN mart.churn_scores_latest.send_offer IS 'True: campaign tools send offer_text to this customer (false: leave them alone). Decided within the campaign budget of the score date by `policy`.';
COMMENT ON COLUMN mart.churn_scores_latest.policy IS 'What decided send_offer: rules (the segment''s treatment group, riskiest first within the budget), uplift (highest expected_value first within the budget, never a negative one) or exploration (the random slice that keeps the experiment running, config/segments.yaml targeting.exploration_share).';
COMMENT ON COLUMN mart.churn_scores_latest.expected_uplift IS 'Estimated reduction of the probability of «Снизилась» over the next 3 months if the offer is sent (0..1 scale, 3 decimals; negative: the contact is expected to push the customer away). NULL while no uplift model is in use.';
COMMENT ON COLUMN mart.churn_scores_latest.expected_value IS 'expected_uplift × profit × horizon months (config/segments.yaml targeting.horizon_months) − contact_cost: net profit a contact is expected to keep, in the export''s money unit, 2 decimals. NULL while no uplift model is in use.';
COMMENT ON COLUMN mart.churn_scores_latest.contact_cost IS 'Cost of sending this customer''s offer once (config/segments.yaml offer cost), in the export''s money unit, 2 decimals.';
COMMENT ON COLUMN mart.churn_scores_latest.profit IS 'Average monthly profit from the customer over the last 3 months (money.csv «Прибыль»), in the export''s money unit (the store does not name it; not converted), 2 decimals.';
COMMENT ON COLUMN mart.churn_scores_latest.profit_at_risk IS 'churn_probability × profit, 2 decimals, same money unit per month: expected monthly profit lost if nothing is done.';
COMMENT ON COLUMN mart.churn_scores_latest.model_version IS 'Model that produced the score (ml.model_registry; see the model card).';
COMMENT ON COLUMN mart.churn_scores_latest.top_factors IS 'Up to 3 readable reasons (Russian) that raise this customer''s probability most, strongest first, separated by "; "; NULL when none raises it by 0.5 percentage points.';
COMMENT ON COLUMN mart.churn_scores_latest.top_factors_detail IS 'The same reasons as JSON: [{feature, direction, text, impact, value?}]; impact = probability minus the probability with that feature at its training median/mode (0..1).';
COMMENT ON COLUMN mart.churn_scores_latest.rules_version IS 'Version of config/segments.yaml that assigned segment and offer.';
COMMENT ON COLUMN mart.churn_scores_latest.scored_at IS 'When the score was computed (timestamp with time zone).';
