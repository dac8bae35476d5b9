-- The newest uplift training run: its verdict says why the rules still decide.
SELECT * FROM ml.uplift_models ORDER BY created_at DESC, model_version DESC LIMIT 1;
