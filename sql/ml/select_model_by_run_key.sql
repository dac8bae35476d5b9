-- The model a training run registered, if any (makes registration retry-safe).
SELECT * FROM ml.model_registry WHERE run_key = :run_key;
