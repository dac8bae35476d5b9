-- mart: who gets an offer and what it is expected to bring (see 010). Per score date and segment:
-- the deciding policy's contacts, cost and expected retained profit against the rules policy's
-- at the same budget, and why that policy decided (ml/uplift/, scoring.targeting_decisions).
CREATE OR REPLACE VIEW mart.targeting_summary AS
SELECT
    decisions.score_date,
    segments.segment AS segment_code,
    rules.title AS segment_title,
    rules.precedence AS segment_precedence,
    rules.offer_code,
    decisions.policy,
    decisions.reason AS policy_reason,
    decisions.uplift_model_version,
    segments.customers,
    segments.contacts,
    round(segments.cost::numeric, 2)::double precision AS cost,
    round(segments.expected_retained_profit::numeric, 2)::double precision AS expected_retained_profit,
    segments.rules_contacts,
    round(segments.rules_cost::numeric, 2)::double precision AS rules_cost,
    round(segments.rules_expected_retained_profit::numeric, 2)::double precision AS rules_expected_retained_profit,
    round(decisions.budget_max_cost::numeric, 2)::double precision AS budget_max_cost,
    decisions.budget_max_contacts,
    round((sum(segments.cost) OVER (PARTITION BY decisions.score_date))::numeric, 2)::double precision
        AS budget_used_cost,
    (sum(segments.contacts) OVER (PARTITION BY decisions.score_date))::integer AS budget_used_contacts,
    round(decisions.expected_gain::numeric, 2)::double precision AS expected_gain,
    round(decisions.expected_gain_low::numeric, 2)::double precision AS expected_gain_low,
    round(decisions.expected_gain_high::numeric, 2)::double precision AS expected_gain_high,
    models.card_path AS targeting_card_path,
    decisions.rules_version,
    decisions.decided_at
FROM scoring.targeting_decisions AS decisions
JOIN scoring.targeting_segments AS segments ON segments.score_date = decisions.score_date
LEFT JOIN scoring.segment_rules AS rules
    ON rules.rules_version = decisions.rules_version AND rules.segment = segments.segment
LEFT JOIN ml.uplift_models AS models
    ON models.model_version = coalesce(
        decisions.uplift_model_version,
        (SELECT newest.model_version FROM ml.uplift_models AS newest
         WHERE newest.card_path IS NOT NULL AND newest.created_at <= decisions.decided_at
         ORDER BY newest.created_at DESC LIMIT 1));

COMMENT ON VIEW mart.targeting_summary IS
    'Per score date and segment: whom the offers go to (contacts, cost) and what they are expected to keep, by the policy that decided (policy, policy_reason) against the rules policy at the same budget. One row per segment with customers on the date.';
COMMENT ON COLUMN mart.targeting_summary.score_date IS 'Snapshot date of the scores the offers were decided on.';
COMMENT ON COLUMN mart.targeting_summary.segment_code IS 'Stable segment code (config/segments.yaml).';
COMMENT ON COLUMN mart.targeting_summary.segment_title IS 'Human-readable segment name in Russian.';
COMMENT ON COLUMN mart.targeting_summary.segment_precedence IS 'Order in which the segment rule is checked (1 first); sort segments by it.';
COMMENT ON COLUMN mart.targeting_summary.offer_code IS 'Stable code of the segment''s offer.';
COMMENT ON COLUMN mart.targeting_summary.policy IS 'rules or uplift: which policy decided send_offer on this date (the exploration slice keeps the experiment''s assignment under either).';
COMMENT ON COLUMN mart.targeting_summary.policy_reason IS 'Why that policy decided, in one line: «uplift policy: not enough experiment data yet (n of m) …», an off-policy gain not surely above 0, or the uplift model''s gain with its interval.';
COMMENT ON COLUMN mart.targeting_summary.uplift_model_version IS 'The uplift model whose estimates decided (ml.uplift_models); NULL under the rules.';
COMMENT ON COLUMN mart.targeting_summary.customers IS 'Customers of the segment scored on the date (count).';
COMMENT ON COLUMN mart.targeting_summary.contacts IS 'Customers of the segment sent the offer (count), exploration slice included.';
COMMENT ON COLUMN mart.targeting_summary.cost IS 'Total cost of those offers, in the export''s money unit, 2 decimals.';
COMMENT ON COLUMN mart.targeting_summary.expected_retained_profit IS 'Σ expected_uplift × profit × horizon months over the contacted customers: profit the offers are expected to keep, before their cost, in the export''s money unit; NULL while no uplift model is in use.';
COMMENT ON COLUMN mart.targeting_summary.rules_contacts IS 'Customers of the segment the rules policy would have sent the offer at the same budget (count); equal to contacts under the rules.';
COMMENT ON COLUMN mart.targeting_summary.rules_cost IS 'Total cost of the rules policy''s offers, in the export''s money unit, 2 decimals.';
COMMENT ON COLUMN mart.targeting_summary.rules_expected_retained_profit IS 'The same expected retained profit for the rules policy''s contacts, by the same uplift model, in the export''s money unit; NULL while no uplift model is in use.';
COMMENT ON COLUMN mart.targeting_summary.budget_max_cost IS 'The campaign budget of the date: total cost of offers allowed, in the export''s money unit (config/segments.yaml targeting.budget); NULL: no cost limit.';
COMMENT ON COLUMN mart.targeting_summary.budget_max_contacts IS 'The campaign budget of the date: offers allowed (count); NULL: no count limit.';
COMMENT ON COLUMN mart.targeting_summary.budget_used_cost IS 'Cost of every offer of the date, all segments, in the export''s money unit: never above budget_max_cost.';
COMMENT ON COLUMN mart.targeting_summary.budget_used_contacts IS 'Offers of the date, all segments (count): never above budget_max_contacts.';
COMMENT ON COLUMN mart.targeting_summary.expected_gain IS 'Net retained profit of the uplift policy minus the rules policy''s for the whole date (off-policy, doubly robust, from the uplift model''s held-out customers scaled to this date''s), in the export''s money unit; NULL under the rules.';
COMMENT ON COLUMN mart.targeting_summary.expected_gain_low IS 'Lower end of expected_gain''s 95 % interval (money unit); above 0 is the condition for the uplift policy to decide.';
COMMENT ON COLUMN mart.targeting_summary.expected_gain_high IS 'Upper end of expected_gain''s 95 % interval (money unit).';
COMMENT ON COLUMN mart.targeting_summary.targeting_card_path IS 'HTML targeting card of the uplift model behind the decision (or of the newest one trained): Qini curves, uplift by decile, policies compared, budget used, the features that drive uplift.';
COMMENT ON COLUMN mart.targeting_summary.rules_version IS 'Version of config/segments.yaml behind the segments, offers, costs and budget.';
COMMENT ON COLUMN mart.targeting_summary.decided_at IS 'When the offers of the date were decided (timestamp with time zone).';
