-- mart: did the scores come true (see 010). One row per scored snapshot date and model; the
-- settling rule is in sql/schema/075_create_outcome_tables.sql: a score of date D is settled by
-- the labels of the first snapshot on or after D + 3 months. Dates not settled yet say so.
CREATE OR REPLACE VIEW mart.realized_performance AS
SELECT
    dates.score_date,
    coalesce(realized.model_version, dates.model_version) AS model_version,
    CASE
        WHEN realized.score_date IS NULL THEN 'no outcome yet'
        WHEN realized.below_cv THEN 'below cv'
        ELSE 'settled'
    END AS status,
    CASE
        WHEN realized.score_date IS NULL THEN format(
            'no outcome has arrived yet: these scores are settled by the first snapshot on or after %s',
            dates.settles_from)
        WHEN realized.below_cv THEN format(
            'realized ROC-AUC %s (interval up to %s) is below the model''s CV ROC-AUC %s minus its spread %s: retrain',
            round(realized.roc_auc::numeric, 3), round(realized.roc_auc_high::numeric, 3),
            round(realized.cv_roc_auc_mean::numeric, 3), round(realized.cv_roc_auc_std::numeric, 3))
        ELSE format('settled by the snapshot of %s: %s of %s scored customers; figures over %s customers of the %s',
                    realized.settled_by, realized.settled_customers, realized.scored_customers,
                    realized.customers, realized.evaluated_on)
    END AS status_text,
    dates.settles_from,
    realized.settled_by,
    realized.scored_customers,
    realized.settled_customers,
    realized.evaluated_on,
    realized.customers AS evaluated_customers,
    realized.churned AS churned_customers,
    round((realized.churned::numeric / nullif(realized.customers, 0)), 4)::double precision AS realized_churn_rate,
    round(realized.mean_probability::numeric, 4)::double precision AS mean_predicted_probability,
    round(realized.roc_auc::numeric, 4)::double precision AS roc_auc,
    round(realized.roc_auc_low::numeric, 4)::double precision AS roc_auc_low,
    round(realized.roc_auc_high::numeric, 4)::double precision AS roc_auc_high,
    round(realized.brier_score::numeric, 4)::double precision AS brier_score,
    round(realized.cv_roc_auc_mean::numeric, 4)::double precision AS cv_roc_auc,
    round(realized.cv_roc_auc_std::numeric, 4)::double precision AS cv_roc_auc_spread,
    realized.confidence,
    realized.computed_at
FROM outcomes.score_dates AS dates
LEFT JOIN outcomes.realized_performance AS realized ON realized.score_date = dates.score_date;

COMMENT ON VIEW mart.realized_performance IS
    'How the scores of each score date came true, per model: settled by the labels of the first snapshot on or after score_date + 3 months (customers missing there stay unsettled). Dates not settled yet: status ''no outcome yet''.';
COMMENT ON COLUMN mart.realized_performance.score_date IS 'Snapshot date the scores were made on.';
COMMENT ON COLUMN mart.realized_performance.model_version IS 'Model that made the scores (ml.model_registry; see its model card).';
COMMENT ON COLUMN mart.realized_performance.status IS 'no outcome yet | settled | below cv (even the upper bound of the realized ROC-AUC''s interval is below the CV ROC-AUC minus its spread: the warning the job logs).';
COMMENT ON COLUMN mart.realized_performance.status_text IS 'The status in a sentence, with the date from which the settling snapshot can arrive.';
COMMENT ON COLUMN mart.realized_performance.settles_from IS 'score_date + 3 months: the first snapshot on or after it settles these scores (date).';
COMMENT ON COLUMN mart.realized_performance.settled_by IS 'The snapshot whose labels settled the scores (date); NULL: no outcome yet.';
COMMENT ON COLUMN mart.realized_performance.scored_customers IS 'Customers scored on score_date (count).';
COMMENT ON COLUMN mart.realized_performance.settled_customers IS 'Of those, customers with a label in settled_by (count); the others left the export or lost their label.';
COMMENT ON COLUMN mart.realized_performance.evaluated_on IS 'holdout: the figures are over the settled customers of the experiment''s holdout, whose outcome no offer changed (the model predicts the risk without an offer); untreated: over every settled customer sent no offer (the holdout and those the budget or the uplift policy left out), ROC-AUC and Brier weighted by the inverse probability of not being sent one, so they stand for the whole population as CV does; all settled: those were too few (e.g. scores from before the experiment).';
COMMENT ON COLUMN mart.realized_performance.evaluated_customers IS 'The settled customers every figure below is over (count).';
COMMENT ON COLUMN mart.realized_performance.churned_customers IS 'Of them, customers whose activity dropped («Снизилась» in settled_by) (count).';
COMMENT ON COLUMN mart.realized_performance.realized_churn_rate IS 'churned_customers / evaluated_customers (share 0..1, 4 decimals).';
COMMENT ON COLUMN mart.realized_performance.mean_predicted_probability IS 'Mean churn probability the model gave the settled customers (0..1, 4 decimals): compare with realized_churn_rate.';
COMMENT ON COLUMN mart.realized_performance.roc_auc IS 'Realized ROC-AUC of the scores against the labels (0..1, 4 decimals; 0.5 = no better than chance).';
COMMENT ON COLUMN mart.realized_performance.roc_auc_low IS 'Lower bound of its confidence interval (DeLong, level = confidence; 0..1).';
COMMENT ON COLUMN mart.realized_performance.roc_auc_high IS 'Upper bound of its confidence interval (0..1).';
COMMENT ON COLUMN mart.realized_performance.brier_score IS 'Mean squared error of the probabilities (0..1, 4 decimals; lower is better).';
COMMENT ON COLUMN mart.realized_performance.cv_roc_auc IS 'The model''s cross-validated ROC-AUC at training (0..1, 4 decimals).';
COMMENT ON COLUMN mart.realized_performance.cv_roc_auc_spread IS 'Standard deviation of that ROC-AUC over the CV folds (0..1): the warning fires when roc_auc_high is below cv_roc_auc minus it.';
COMMENT ON COLUMN mart.realized_performance.confidence IS 'Level of the intervals (share 0..1, config/segments.yaml experiment.confidence).';
COMMENT ON COLUMN mart.realized_performance.computed_at IS 'When the outcomes were computed (timestamp with time zone).';

-- Calibration of the settled scores: predicted vs realized «Снизилась» rate per probability decile.
CREATE OR REPLACE VIEW mart.realized_calibration AS
SELECT
    deciles.score_date,
    deciles.model_version,
    deciles.decile,
    deciles.customers,
    round(deciles.mean_predicted::numeric, 4)::double precision AS mean_predicted_probability,
    round(deciles.realized_rate::numeric, 4)::double precision AS realized_churn_rate,
    round((deciles.realized_rate - deciles.mean_predicted)::numeric, 4)::double precision AS gap,
    round(deciles.min_probability::numeric, 4)::double precision AS min_probability,
    round(deciles.max_probability::numeric, 4)::double precision AS max_probability
FROM outcomes.calibration_deciles AS deciles;

COMMENT ON VIEW mart.realized_calibration IS
    'Per settled score date and model, customers in ten groups by churn probability: the predicted vs the realized «Снизилась» rate (empty until an outcome arrives: see mart.realized_performance).';
COMMENT ON COLUMN mart.realized_calibration.score_date IS 'Snapshot date the scores were made on.';
COMMENT ON COLUMN mart.realized_calibration.model_version IS 'Model that made the scores.';
COMMENT ON COLUMN mart.realized_calibration.decile IS 'Probability decile, 1 = the tenth of customers with the lowest probabilities, 10 = the highest (1..10, unitless).';
COMMENT ON COLUMN mart.realized_calibration.customers IS 'Settled customers in the decile (count).';
COMMENT ON COLUMN mart.realized_calibration.mean_predicted_probability IS 'Their mean churn probability (0..1, 4 decimals).';
COMMENT ON COLUMN mart.realized_calibration.realized_churn_rate IS 'Share of them whose activity dropped (0..1, 4 decimals).';
COMMENT ON COLUMN mart.realized_calibration.gap IS 'realized_churn_rate − mean_predicted_probability (share −1..1, 4 decimals): > 0 = the model under-predicted.';
COMMENT ON COLUMN mart.realized_calibration.min_probability IS 'Lowest churn probability in the decile (0..1).';
COMMENT ON COLUMN mart.realized_calibration.max_probability IS 'Highest churn probability in the decile (0..1).';
