-- The targeting of :score_date before it is written again (its segment rows go with it).
DELETE FROM scoring.targeting_decisions WHERE score_date = :score_date;
