-- The current champion (at most one row: unique index model_registry_one_champion).
SELECT * FROM ml.model_registry WHERE status = 'champion';
