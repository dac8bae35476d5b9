SELECT * FROM ml.uplift_models WHERE run_key = :run_key;
