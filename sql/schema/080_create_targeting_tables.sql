-- Offers by value (ml/uplift/): the uplift models and, per score date, which policy decided the
-- offers and what it was expected to bring.

-- One row per uplift training run (monthly, beside the churn model: the train_uplift step). A run
-- without enough settled experiment rows is recorded too (status insufficient_data, no artifact),
-- so the mart can say how much is missing. Status: challenger → champion or rejected; a champion
-- becomes retired when another replaces it. At most one champion.
CREATE TABLE IF NOT EXISTS ml.uplift_models (
    model_version      text        PRIMARY KEY,
    status             text        NOT NULL
        CHECK (status IN ('champion', 'challenger', 'retired', 'rejected', 'insufficient_data')),
    trained_for        date        NOT NULL,  -- the snapshot whose retraining ran it
    method             text        NOT NULL,  -- uplift learner (ml/uplift/learners.py)
    settled_rows       integer     NOT NULL,
    reason             text        NOT NULL,  -- the verdict in one line (what the mart shows)
    metrics            jsonb       NOT NULL,  -- Qini, AUUC, deciles, off-policy values (ml/uplift/training.py)
    artifact_path      text,
    artifact_sha256    text        CHECK (artifact_sha256 ~ '^[0-9a-f]{64}$'),
    card_path          text,
    run_key            text        NOT NULL UNIQUE,  -- one row per training run (retry-safe)
    created_at         timestamptz NOT NULL DEFAULT now(),
    status_changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS uplift_models_one_champion ON ml.uplift_models ((true)) WHERE status = 'champion';

-- Per score date: which policy decided send_offer and why (written by the target_offers step).
CREATE TABLE IF NOT EXISTS scoring.targeting_decisions (
    score_date            date             PRIMARY KEY,
    policy                text             NOT NULL CHECK (policy IN ('rules', 'uplift')),
    reason                text             NOT NULL,
    uplift_model_version  text             REFERENCES ml.uplift_models (model_version),
    rules_version         text             NOT NULL,
    budget_max_cost       double precision,
    budget_max_contacts   integer,
    customers             integer          NOT NULL,
    expected_gain         double precision,  -- over the rules policy, off-policy, scaled to this date
    expected_gain_low     double precision,
    expected_gain_high    double precision,
    decided_at            timestamptz      NOT NULL DEFAULT now()
);

-- Per score date and segment: the decided policy's contacts against the rules policy's, at the
-- same budget (expected retained profit: Σ expected_uplift × profit × horizon months over the
-- contacted customers; NULL without an uplift model).
CREATE TABLE IF NOT EXISTS scoring.targeting_segments (
    score_date                      date             NOT NULL REFERENCES scoring.targeting_decisions ON DELETE CASCADE,
    segment                         text             NOT NULL,
    customers                       integer          NOT NULL,
    contacts                        integer          NOT NULL,
    cost                            double precision NOT NULL,
    expected_retained_profit        double precision,
    rules_contacts                  integer          NOT NULL,
    rules_cost                      double precision NOT NULL,
    rules_expected_retained_profit  double precision,
    PRIMARY KEY (score_date, segment)
);
