-- The champion before the current one: the model retired most recently (what a rollback restores).
SELECT *
FROM ml.model_registry
WHERE status = 'retired'
ORDER BY status_changed_at DESC, created_at DESC
LIMIT 1;
