COPY scoring.churn_scores_staged (
    score_date, customer_id, model_version, churn_probability, risk_band, segment, offer,
    top_factors, profit, rules_version, offer_group
) FROM STDIN WITH (FORMAT csv)
