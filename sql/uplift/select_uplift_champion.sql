-- The uplift model the targeting step uses (at most one champion).
SELECT * FROM ml.uplift_models WHERE status = 'champion';
