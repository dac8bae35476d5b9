-- Step 1 of a promotion: the current champion becomes 'retired'.
UPDATE ml.model_registry
SET status = 'retired', status_changed_at = now()
WHERE status = 'champion'
RETURNING model_version;
