-- The gate failed: the challenger stays on record as 'rejected', the champion is untouched.
UPDATE ml.model_registry
SET status = 'rejected', status_changed_at = now()
WHERE model_version = :model_version AND status = 'challenger'
RETURNING model_version;
