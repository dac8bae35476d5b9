-- One PSI value of a scoring run.
INSERT INTO scoring.drift_psi (
    score_date, model_version, variable, variable_kind, psi, status, customers,
    reference_snapshot, reference_rows, bins
)
VALUES (
    :score_date, :model_version, :variable, :variable_kind, :psi, :status, :customers,
    :reference_snapshot, :reference_rows, CAST(:bins AS jsonb)
);
