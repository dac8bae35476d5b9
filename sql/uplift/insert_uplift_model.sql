-- Register an uplift training run (ml/uplift/registry.py); a retry of the same run changes nothing.
INSERT INTO ml.uplift_models (
    model_version, status, trained_for, method, settled_rows, reason, metrics, artifact_path,
    artifact_sha256, card_path, run_key
) VALUES (
    :model_version, :status, :trained_for, :method, :settled_rows, :reason, CAST(:metrics AS jsonb),
    :artifact_path, :artifact_sha256, :card_path, :run_key
)
ON CONFLICT (run_key) DO NOTHING;
