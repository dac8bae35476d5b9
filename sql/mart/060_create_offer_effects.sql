-- mart: did the offers work (see 010). Per snapshot date, segment and offer: the treated customers
-- against the experiment's holdout of the same segment (config/segments.yaml `experiment`),
-- settled like mart.realized_performance. Every segment of every scored snapshot date has a row: dates not
-- settled yet say so, and so do segments too small to tell.
CREATE OR REPLACE VIEW mart.offer_effects AS
WITH score_dates AS (
    SELECT
        dates.*,
        EXISTS (SELECT 1 FROM outcomes.realized_performance AS realized
                WHERE realized.score_date = dates.score_date) AS settled
    FROM outcomes.score_dates AS dates
)

SELECT
    dates.score_date,
    rules.segment AS segment_code,
    rules.title AS segment_title,
    rules.precedence AS segment_precedence,
    rules.offer_code,
    CASE
        WHEN effects.verdict IS NOT NULL THEN effects.verdict
        WHEN dates.settled THEN 'no customers'
        ELSE 'no outcome yet'
    END AS verdict,
    CASE
        WHEN effects.verdict = 'too small to tell' THEN format(
            'too small to tell: %s treated and %s held out customers were settled; at least %s in each group are needed',
            effects.treated_customers, effects.holdout_customers, effects.min_group)
        WHEN effects.verdict IS NOT NULL THEN format(
            '%s: «Снизилась» %s %% treated vs %s %% held out (difference %s points, %s %% interval %s to %s)',
            effects.verdict, round(100 * effects.treated_churn_rate::numeric, 1),
            round(100 * effects.holdout_churn_rate::numeric, 1), round(100 * effects.churn_rate_difference::numeric, 1),
            round(100 * effects.confidence::numeric), round(100 * effects.churn_rate_difference_low::numeric, 1),
            round(100 * effects.churn_rate_difference_high::numeric, 1))
        WHEN dates.settled THEN 'no settled customers in this segment on this score date'
        ELSE format('no outcome has arrived yet: settled by the first snapshot on or after %s', dates.settles_from)
    END AS verdict_text,
    effects.settled_by,
    effects.treated_customers,
    effects.holdout_customers,
    round(effects.treated_churn_rate::numeric, 4)::double precision AS treated_churn_rate,
    round(effects.holdout_churn_rate::numeric, 4)::double precision AS holdout_churn_rate,
    round(effects.churn_rate_difference::numeric, 4)::double precision AS churn_rate_difference,
    round(effects.churn_rate_difference_low::numeric, 4)::double precision AS churn_rate_difference_low,
    round(effects.churn_rate_difference_high::numeric, 4)::double precision AS churn_rate_difference_high,
    round(effects.churn_p_value::numeric, 4)::double precision AS churn_p_value,
    round(effects.treated_revenue_change::numeric, 2)::double precision AS treated_revenue_change,
    round(effects.holdout_revenue_change::numeric, 2)::double precision AS holdout_revenue_change,
    round(effects.revenue_change_difference::numeric, 2)::double precision AS revenue_change_difference,
    round(effects.revenue_change_difference_low::numeric, 2)::double precision AS revenue_change_difference_low,
    round(effects.revenue_change_difference_high::numeric, 2)::double precision AS revenue_change_difference_high,
    effects.confidence,
    effects.min_group,
    dates.rules_version
FROM score_dates AS dates
JOIN scoring.segment_rules AS rules ON rules.rules_version = dates.rules_version
LEFT JOIN outcomes.offer_effects AS effects
    ON effects.score_date = dates.score_date AND effects.segment = rules.segment
    AND effects.offer_code = rules.offer_code;

COMMENT ON VIEW mart.offer_effects IS
    'Did the offers work: per score date, segment and offer, the treated customers vs the experiment''s holdout (no offer), «Снизилась» rate and 3-month revenue change with intervals, settled by the first snapshot on or after score_date + 3 months. verdict says when there is no outcome yet or the groups are too small to tell.';
COMMENT ON COLUMN mart.offer_effects.score_date IS 'Snapshot date of the scores that assigned the offer and the groups.';
COMMENT ON COLUMN mart.offer_effects.segment_code IS 'Stable segment code (config/segments.yaml).';
COMMENT ON COLUMN mart.offer_effects.segment_title IS 'Human-readable segment name in Russian.';
COMMENT ON COLUMN mart.offer_effects.segment_precedence IS 'Order in which the segment rule is checked (1 first); sort by it.';
COMMENT ON COLUMN mart.offer_effects.offer_code IS 'Stable code of the offer the treated customers got.';
COMMENT ON COLUMN mart.offer_effects.verdict IS 'offer lowers churn | offer raises churn | no clear effect (the interval holds 0) | too small to tell | no customers | no outcome yet.';
COMMENT ON COLUMN mart.offer_effects.verdict_text IS 'The verdict in a sentence, with the figures behind it.';
COMMENT ON COLUMN mart.offer_effects.settled_by IS 'The snapshot whose labels settled the outcomes (date).';
COMMENT ON COLUMN mart.offer_effects.treated_customers IS 'Settled customers of the segment who were sent the offer (count).';
COMMENT ON COLUMN mart.offer_effects.holdout_customers IS 'Settled customers of the segment held out (no offer) (count).';
COMMENT ON COLUMN mart.offer_effects.treated_churn_rate IS 'Share of the treated whose activity dropped («Снизилась») (0..1, 4 decimals).';
COMMENT ON COLUMN mart.offer_effects.holdout_churn_rate IS 'Share of the held out whose activity dropped (0..1, 4 decimals).';
COMMENT ON COLUMN mart.offer_effects.churn_rate_difference IS 'treated_churn_rate − holdout_churn_rate (share −1..1, 4 decimals): below 0 = the offer lowered churn.';
COMMENT ON COLUMN mart.offer_effects.churn_rate_difference_low IS 'Lower bound of its interval (Newcombe, level = confidence; share −1..1, 4 decimals); NULL when too small to tell.';
COMMENT ON COLUMN mart.offer_effects.churn_rate_difference_high IS 'Upper bound of its interval (share −1..1, 4 decimals).';
COMMENT ON COLUMN mart.offer_effects.churn_p_value IS 'Two-sided p-value of the difference (pooled two-proportion z test; 0..1).';
COMMENT ON COLUMN mart.offer_effects.treated_revenue_change IS 'Mean change of the treated customers'' 3-month revenue (settled_by minus score_date), in the export''s money unit, 2 decimals.';
COMMENT ON COLUMN mart.offer_effects.holdout_revenue_change IS 'The same for the held out customers, same money unit.';
COMMENT ON COLUMN mart.offer_effects.revenue_change_difference IS 'treated − holdout mean revenue change, same money unit: above 0 = the offer kept revenue.';
COMMENT ON COLUMN mart.offer_effects.revenue_change_difference_low IS 'Lower bound of its interval (Welch, level = confidence), same money unit.';
COMMENT ON COLUMN mart.offer_effects.revenue_change_difference_high IS 'Upper bound of its interval, same money unit.';
COMMENT ON COLUMN mart.offer_effects.confidence IS 'Level of the intervals (share 0..1, config/segments.yaml experiment.confidence).';
COMMENT ON COLUMN mart.offer_effects.min_group IS 'Customers needed in each group before an effect is estimated (count).';
COMMENT ON COLUMN mart.offer_effects.rules_version IS 'Version of config/segments.yaml that assigned segments, offers and groups.';
