-- One registry row by model_version.
SELECT * FROM ml.model_registry WHERE model_version = :model_version;
