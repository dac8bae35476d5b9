-- Step 2 of a promotion: the challenger becomes the champion.
UPDATE ml.model_registry
SET status = 'champion', status_changed_at = now()
WHERE model_version = :model_version AND status = 'challenger'
RETURNING model_version;
