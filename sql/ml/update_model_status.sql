-- Move one model from :from_status to :to_status, recording who and why (a rollback's two steps).
UPDATE ml.model_registry
SET status = :to_status, status_changed_at = now(), status_changed_by = :changed_by, status_reason = :reason
WHERE model_version = :model_version AND status = :from_status
RETURNING model_version;
