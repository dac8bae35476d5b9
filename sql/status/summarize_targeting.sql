-- The offers of :snapshot_date for the summary `make run` prints: the deciding policy and why,
-- contacts and cost against the budget, the rules policy's at the same budget, the card.
SELECT
    policy,
    policy_reason,
    budget_max_cost,
    budget_max_contacts,
    max(budget_used_cost) AS cost,
    max(budget_used_contacts) AS contacts,
    sum(rules_contacts) AS rules_contacts,
    round(sum(rules_cost)::numeric, 2)::double precision AS rules_cost,
    round(sum(expected_retained_profit)::numeric, 2)::double precision AS expected_retained_profit,
    round(sum(rules_expected_retained_profit)::numeric, 2)::double precision AS rules_expected_retained_profit,
    max(targeting_card_path) AS targeting_card_path
FROM mart.targeting_summary
WHERE score_date = :snapshot_date
GROUP BY policy, policy_reason, budget_max_cost, budget_max_contacts;
