-- Serialise writers of outcomes.* for the rest of the transaction.
SELECT pg_advisory_xact_lock(727075);
