-- The customers scored for :score_date: «active 3 months» rows of the snapshot's features, in
-- customer order (streamed in chunks by ml/scoring/steps.py).
SELECT *
FROM features.model_input
WHERE snapshot_date = :score_date
ORDER BY customer_id;
