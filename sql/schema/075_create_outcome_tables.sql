-- outcomes: did the scores come true, did the offers work (ml/outcomes/settle.py writes them,
-- the churn_score DAG's settle_outcomes task runs it after every publish).
--
-- The settling rule: a score made on date D predicts a drop in activity over the three months
-- after D. It is settled by the label («Покупательская активность») the same customer carries in
-- the first published snapshot on or after D + 3 months (settled_by). Customers missing from
-- that snapshot stay unsettled: they are counted, never taken as «Снизилась». Each scored snapshot
-- date is replaced as a whole, in one transaction, whenever its settling snapshot or its scores are
-- (re)published, so a rerun gives the same rows.

-- Realized performance per scored snapshot date and model. The model predicts the risk without an offer,
-- and offers change the outcome of the treated (that is their point), so the figures are over
-- the settled customers of the experiment's holdout (evaluated_on 'holdout'), with the customers
-- a budget or the uplift policy left out when there are any ('untreated': every customer sent no
-- offer, ROC-AUC and Brier weighted by the inverse probability of not being sent one); only when those are fewer than experiment.min_group (e.g. scores from before the
-- experiment) over every settled customer ('all settled').
CREATE TABLE IF NOT EXISTS outcomes.realized_performance (
    score_date           date             NOT NULL,
    model_version        text             NOT NULL REFERENCES ml.model_registry (model_version),
    settled_by           date             NOT NULL,  -- the snapshot whose labels settled the scores
    scored_customers     bigint           NOT NULL,
    settled_customers    bigint           NOT NULL,  -- scored on score_date and labelled in settled_by
    evaluated_on         text             NOT NULL
        CONSTRAINT realized_performance_evaluated_on_check CHECK (evaluated_on IN ('holdout', 'untreated', 'all settled')),
    customers            bigint           NOT NULL,  -- the settled customers the figures are over
    churned              bigint           NOT NULL,  -- of those, «Снизилась» in settled_by
    mean_probability     double precision NOT NULL,
    roc_auc              double precision,           -- NULL when one class only
    roc_auc_low          double precision,           -- DeLong interval at `confidence`
    roc_auc_high         double precision,
    brier_score          double precision NOT NULL,
    cv_roc_auc_mean      double precision,           -- the model's cross-validated ROC-AUC (ml.model_registry)
    cv_roc_auc_std       double precision,           -- its spread over the CV folds
    below_cv             boolean          NOT NULL,  -- roc_auc_high < cv_roc_auc_mean - cv_roc_auc_std (logged as a warning)
    confidence           double precision NOT NULL,
    computed_at          timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (score_date, model_version)
);

-- Calibration by probability decile (1 = the lowest tenth of the probabilities).
CREATE TABLE IF NOT EXISTS outcomes.calibration_deciles (
    score_date       date             NOT NULL,
    model_version    text             NOT NULL,
    decile           smallint         NOT NULL CHECK (decile BETWEEN 1 AND 10),
    customers        bigint           NOT NULL,
    mean_predicted   double precision NOT NULL,
    realized_rate    double precision NOT NULL,
    min_probability  double precision NOT NULL,
    max_probability  double precision NOT NULL,
    PRIMARY KEY (score_date, model_version, decile),
    FOREIGN KEY (score_date, model_version) REFERENCES outcomes.realized_performance ON DELETE CASCADE
);

-- Offer effects per scored snapshot date, segment and offer: the treated customers against the
-- experiment's holdout of the same segment (scoring.churn_scores.offer_group).
CREATE TABLE IF NOT EXISTS outcomes.offer_effects (
    score_date                      date             NOT NULL,
    segment                         text             NOT NULL,
    offer_code                      text             NOT NULL,
    rules_version                   text             NOT NULL,
    settled_by                      date             NOT NULL,
    treated_customers               bigint           NOT NULL,
    holdout_customers               bigint           NOT NULL,
    treated_churn_rate              double precision,
    holdout_churn_rate              double precision,
    churn_rate_difference           double precision,  -- treated − holdout: < 0 = the offer lowered churn
    churn_rate_difference_low       double precision,  -- Newcombe interval at `confidence`
    churn_rate_difference_high      double precision,
    churn_p_value                   double precision,
    treated_revenue_change          double precision,  -- mean of (3-month revenue at settled_by − at score_date)
    holdout_revenue_change          double precision,
    revenue_change_difference       double precision,
    revenue_change_difference_low   double precision,  -- Welch interval
    revenue_change_difference_high  double precision,
    verdict                         text             NOT NULL,
    confidence                      double precision NOT NULL,
    min_group                       integer          NOT NULL,
    computed_at                     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (score_date, segment, offer_code)
);

COMMENT ON TABLE outcomes.realized_performance IS
    'How each score date''s scores came true, per model: settled by the labels of the first snapshot on or after score_date + 3 months.';
COMMENT ON TABLE outcomes.offer_effects IS
    'Treated vs holdout per score date, segment and offer: «Снизилась» rate and 3-month revenue change, with intervals.';

-- Every published snapshot date of scores with what settles it: the one statement of the horizon rule, read
-- by the settling step (sql/outcomes/select_score_dates_to_settle.sql) and the mart views.
CREATE OR REPLACE VIEW outcomes.score_dates AS
SELECT
    batches.snapshot_date AS score_date,
    (batches.snapshot_date + interval '3 months')::date AS settles_from,
    (SELECT scores.model_version FROM scoring.churn_scores AS scores
     WHERE scores.score_date = batches.snapshot_date LIMIT 1) AS model_version,
    (SELECT scores.rules_version FROM scoring.churn_scores AS scores
     WHERE scores.score_date = batches.snapshot_date LIMIT 1) AS rules_version
FROM ops.staged_batches AS batches
WHERE batches.layer = 'scoring' AND batches.last_published_at IS NOT NULL;

COMMENT ON VIEW outcomes.score_dates IS
    'Published score dates; settles_from = score_date + 3 months: the first snapshot on or after it settles the scores (one model and one rule version per date).';

-- Every score date whose settling snapshot (the first published features snapshot on or after
-- settles_from) has arrived, with that snapshot: what the settling step and the uplift models'
-- training rows (sql/uplift/select_settled_experiment_rows.sql) read.
CREATE OR REPLACE VIEW outcomes.settled_score_dates AS
WITH published_snapshots AS (
    SELECT snapshot_date
    FROM ops.staged_batches
    WHERE layer = 'features' AND last_published_at IS NOT NULL
),

settling AS (
    SELECT
        dates.score_date,
        (SELECT min(later.snapshot_date)
         FROM published_snapshots AS later
         WHERE later.snapshot_date >= dates.settles_from) AS settled_by
    FROM outcomes.score_dates AS dates
)

SELECT score_date, settled_by FROM settling WHERE settled_by IS NOT NULL;

COMMENT ON VIEW outcomes.settled_score_dates IS
    'Published score dates whose settling snapshot (the first published one on or after score_date + 3 months) has arrived, with that snapshot (settled_by).';
