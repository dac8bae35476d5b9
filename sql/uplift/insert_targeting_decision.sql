INSERT INTO scoring.targeting_decisions (
    score_date, policy, reason, uplift_model_version, rules_version, budget_max_cost,
    budget_max_contacts, customers, expected_gain, expected_gain_low, expected_gain_high
) VALUES (
    :score_date, :policy, :reason, :uplift_model_version, :rules_version, :budget_max_cost,
    :budget_max_contacts, :customers, :expected_gain, :expected_gain_low, :expected_gain_high
);
