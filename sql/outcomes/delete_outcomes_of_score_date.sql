-- The outcomes of the scores of :score_date (a snapshot date), before they are written again
-- (calibration_deciles go with their row).
DELETE FROM outcomes.offer_effects WHERE score_date = :score_date;
DELETE FROM outcomes.realized_performance WHERE score_date = :score_date;
