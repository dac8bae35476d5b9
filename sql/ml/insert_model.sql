-- Register a trained model as 'challenger'; the promotion gate decides its fate next.
INSERT INTO ml.model_registry (
    model_version, status, training_snapshot, training_rows, algorithm, estimator, parameters,
    features, metrics, cv_roc_auc_mean, cv_roc_auc_std, brier_score, threshold, decision,
    reference, artifact_path, artifact_sha256, library_versions, model_card_path, run_key
)
VALUES (
    :model_version, 'challenger', :training_snapshot, :training_rows, :algorithm, :estimator,
    CAST(:parameters AS jsonb), CAST(:features AS jsonb), CAST(:metrics AS jsonb),
    :cv_roc_auc_mean, :cv_roc_auc_std, :brier_score, :threshold, CAST(:decision AS jsonb),
    CAST(:reference AS jsonb), :artifact_path, :artifact_sha256, CAST(:library_versions AS jsonb),
    :model_card_path, :run_key
);
