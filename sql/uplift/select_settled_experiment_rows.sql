-- Settled experiment rows for the uplift models (ml/uplift/training.py): every published score
-- whose settling snapshot (the first published on or after its date + 3 months,
-- outcomes.settled_score_dates) is on or before :as_of, with its features at the score date, whether
-- the offer was sent and how likely that was (NULL in scores from before targeting: the caller
-- takes the experiment's odds), and «Снизилась» in the settling snapshot (customers missing
-- there stay out). customers_of_date: settled rows of that score date (the budget's scale).
SELECT
    scores.score_date,
    scores.churn_probability,
    scores.segment,
    scores.offer_group,
    scores.send_offer,
    scores.treatment_probability,
    scores.contact_cost,
    scored.*,
    later.churn_label AS churned,
    count(*) OVER (PARTITION BY scores.score_date) AS customers_of_date
FROM outcomes.settled_score_dates AS settling
JOIN scoring.churn_scores AS scores ON scores.score_date = settling.score_date
JOIN features.customer_features AS scored
    ON scored.snapshot_date = scores.score_date AND scored.customer_id = scores.customer_id
JOIN features.customer_features AS later
    ON later.snapshot_date = settling.settled_by AND later.customer_id = scores.customer_id
WHERE settling.settled_by <= :as_of
  AND later.churn_label IS NOT NULL
ORDER BY scores.score_date, scores.customer_id;
