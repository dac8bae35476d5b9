-- Serialise writers of scoring.churn_scores(_staged) for the rest of the transaction.
SELECT pg_advisory_xact_lock(727060);
