-- Remove the PSI rows of :score_date (monitoring replaces the whole date).
DELETE FROM scoring.drift_psi WHERE score_date = :score_date;
