UPDATE ml.uplift_models SET status = :status, status_changed_at = now()
WHERE model_version = :model_version AND status = 'challenger';
