-- One transaction: the champion retires and :model_version becomes the champion.
UPDATE ml.uplift_models SET status = 'retired', status_changed_at = now()
WHERE status = 'champion' AND model_version <> :model_version;
UPDATE ml.uplift_models SET status = 'champion', status_changed_at = now()
WHERE model_version = :model_version AND status = 'challenger';
