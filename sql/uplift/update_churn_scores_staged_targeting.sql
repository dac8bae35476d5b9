-- Apply the targeting decisions to the staged scores of :score_date (one UPDATE, the step's
-- transaction), then refresh the partition's statistics for the gate.
UPDATE scoring.churn_scores_staged AS staged
SET offer_group = updates.offer_group,
    send_offer = updates.send_offer,
    treatment_probability = updates.treatment_probability,
    expected_uplift = updates.expected_uplift,
    expected_value = updates.expected_value,
    contact_cost = updates.contact_cost,
    policy = updates.policy
FROM targeting_updates AS updates
WHERE staged.score_date = :score_date AND staged.customer_id = updates.customer_id;
