-- Serialise registry writers (registration, promotion) for the rest of the transaction.
SELECT pg_advisory_xact_lock(727050);
