INSERT INTO scoring.targeting_segments (
    score_date, segment, customers, contacts, cost, expected_retained_profit, rules_contacts,
    rules_cost, rules_expected_retained_profit
) VALUES (
    :score_date, :segment, :customers, :contacts, :cost, :expected_retained_profit, :rules_contacts,
    :rules_cost, :rules_expected_retained_profit
);
