INSERT INTO outcomes.calibration_deciles (
    score_date, model_version, decile, customers, mean_predicted, realized_rate, min_probability,
    max_probability
) VALUES (
    :score_date, :model_version, :decile, :customers, :mean_predicted, :realized_rate, :min_probability,
    :max_probability
);
