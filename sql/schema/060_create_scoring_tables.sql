-- scoring: the nightly churn scores of every active customer, the rule file versions that assigned
-- segments and offers, and drift monitoring (PSI). Written by ml/scoring/steps.py and ml/monitoring.py.
--
-- Flow of one run (dags/churn_score.py): score → the date's partition of scoring.churn_scores_staged
-- (created or emptied, rows by COPY) → GX gate on the staged rows → publish = that partition, with
-- the published table's constraints added, is detached from staged and attached to
-- scoring.churn_scores in place of the date's old partition (ops.publish_partition):
-- the rows are written once, and a failed gate leaves the published date untouched → PSI into
-- scoring.drift_psi.

-- Staged scores: same columns as scoring.churn_scores but no constraints beyond types, so the
-- GX suite (expectations/scoring.churn_scores.json) is what decides whether they are published.
-- One partition per date (ops.replace_partition), logged: a gated batch survives a crash.
CREATE TABLE IF NOT EXISTS scoring.churn_scores_staged (
    score_date         date             NOT NULL,
    customer_id        bigint           NOT NULL,
    model_version      text             NOT NULL,
    churn_probability  double precision,
    risk_band          text,
    segment            text,
    offer              text,
    top_factors        jsonb,
    profit             double precision,
    rules_version      text             NOT NULL,
    scored_at          timestamptz      NOT NULL DEFAULT now(),
    profit_at_risk     double precision GENERATED ALWAYS AS (round((churn_probability * profit)::numeric, 2)::double precision) STORED,
    offer_group        text,
    send_offer             boolean,
    treatment_probability  double precision,
    expected_uplift        double precision,
    expected_value         double precision,
    contact_cost           double precision,
    policy                 text
) PARTITION BY LIST (score_date);

-- Published scores: history, one row per (score_date, customer_id), one partition per date; a
-- date is replaced as a whole. The checks are named: publish adds the same ones to the staged
-- partition before attaching it (ATTACH requires them). A score names the model that produced
-- it: a registry row cannot be deleted while anything refers to it.
CREATE TABLE IF NOT EXISTS scoring.churn_scores (
    score_date         date             NOT NULL,
    customer_id        bigint           NOT NULL,
    model_version      text             NOT NULL REFERENCES ml.model_registry (model_version),
    churn_probability  double precision NOT NULL
        CONSTRAINT churn_scores_probability_range CHECK (churn_probability BETWEEN 0 AND 1),
    risk_band          text             NOT NULL
        CONSTRAINT churn_scores_risk_band_known CHECK (risk_band IN ('high', 'medium', 'low')),
    segment            text             NOT NULL,
    offer              text             NOT NULL,
    top_factors        jsonb            NOT NULL
        CONSTRAINT churn_scores_top_factors_array CHECK (jsonb_typeof(top_factors) = 'array'),
    profit             double precision NOT NULL,
    rules_version      text             NOT NULL,
    scored_at          timestamptz      NOT NULL,
    profit_at_risk     double precision GENERATED ALWAYS AS (round((churn_probability * profit)::numeric, 2)::double precision) STORED,
    offer_group        text             NOT NULL  -- no default: every row says its group
        CONSTRAINT churn_scores_offer_group_known
        CHECK (offer_group IN ('treatment', 'holdout', 'targeted', 'not_targeted')),
    -- The targeting columns (ml/uplift/): NULL only in rows published before targeting existed.
    send_offer             boolean,
    treatment_probability  double precision
        CONSTRAINT churn_scores_treatment_probability_range CHECK (treatment_probability BETWEEN 0 AND 1),
    expected_uplift        double precision,
    expected_value         double precision,
    contact_cost           double precision
        CONSTRAINT churn_scores_contact_cost_known CHECK (contact_cost >= 0),
    policy                 text
        CONSTRAINT churn_scores_policy_known CHECK (policy IN ('rules', 'uplift', 'exploration')),
    PRIMARY KEY (score_date, customer_id)
) PARTITION BY LIST (score_date);
CREATE INDEX IF NOT EXISTS churn_scores_customer_idx ON scoring.churn_scores (customer_id, score_date DESC);

-- profit_at_risk = expected monthly profit lost without action, rounded to 0.01 of the export's
-- money unit: stored (computed by PostgreSQL from the two columns) so that BI's «top customers by
-- profit at risk» reads the newest date's partition in index order instead of sorting it.
CREATE INDEX IF NOT EXISTS churn_scores_profit_at_risk_idx ON scoring.churn_scores (profit_at_risk DESC);

-- offer_group: the offer experiment's group (ml/experiments.py, config/segments.yaml
-- `experiment`): 'holdout' customers get no offer, so outcomes can tell what the offer changed.

COMMENT ON TABLE scoring.churn_scores IS
    'Churn scores of every «active 3 months» customer per snapshot (score_date), published after the GX gate; a rerun replaces the date.';
COMMENT ON COLUMN scoring.churn_scores.score_date IS 'Snapshot date of the features that were scored (the DAG run''s snapshot).';
COMMENT ON COLUMN scoring.churn_scores.customer_id IS 'Customer id as in the export (id).';
COMMENT ON COLUMN scoring.churn_scores.model_version IS 'Champion model (ml.model_registry.model_version) that produced the probability.';
COMMENT ON COLUMN scoring.churn_scores.churn_probability IS 'Calibrated probability that the customer''s purchasing activity drops («Снизилась»), 0..1.';
COMMENT ON COLUMN scoring.churn_scores.risk_band IS 'high: probability >= the model''s threshold (ml.model_registry.threshold); medium: >= half of it; low: below (config/segments.yaml).';
COMMENT ON COLUMN scoring.churn_scores.segment IS 'Marketing segment code, first matching rule of config/segments.yaml (see scoring.segment_rules).';
COMMENT ON COLUMN scoring.churn_scores.offer IS 'Short text of the offer for the segment.';
COMMENT ON COLUMN scoring.churn_scores.top_factors IS 'Up to 3 reasons that push this customer''s probability up most: [{feature, direction, impact}, with value for a category], impact = probability minus the probability with that feature at its training median/mode. Their texts are in scoring.factor_phrases of rules_version (mart.churn_scores_latest shows them).';
COMMENT ON COLUMN scoring.churn_scores.profit IS 'Average monthly profit from the customer over the last 3 months (money.csv «Прибыль»).';
COMMENT ON COLUMN scoring.churn_scores.rules_version IS 'Version of config/segments.yaml that assigned segment and offer.';
COMMENT ON COLUMN scoring.churn_scores.scored_at IS 'When the scores were computed.';
COMMENT ON COLUMN scoring.churn_scores.profit_at_risk IS 'round(churn_probability × profit, 2): expected monthly profit lost without action, in the export''s money unit.';
COMMENT ON COLUMN scoring.churn_scores.offer_group IS 'treatment / holdout: the experiment''s random groups (holdout share per segment in config/segments.yaml `experiment`), the offer is sent to treatment only; targeted / not_targeted: decided by the policy outside the experiment (over the budget under the rules; the uplift policy''s choice).';
COMMENT ON COLUMN scoring.churn_scores.send_offer IS 'True: campaign tools send the offer to this customer (ml/uplift/policy.py). NULL in scores published before targeting: then offer_group = treatment.';
COMMENT ON COLUMN scoring.churn_scores.treatment_probability IS 'Probability (0..1) that the policy of this date sends this customer the offer, over its random draws (exploration slice, holdout): what uplift models and off-policy estimates weigh the outcome by.';
COMMENT ON COLUMN scoring.churn_scores.expected_uplift IS 'Estimated reduction of P(«Снизилась») over the next 3 months if the offer is sent (the uplift model of the offer''s family, 0..1 scale, negative: a sleeping dog); NULL without an uplift model.';
COMMENT ON COLUMN scoring.churn_scores.expected_value IS 'expected_uplift × profit × horizon months − contact_cost: net retained profit a contact is expected to bring, in the export''s money unit; NULL without an uplift model.';
COMMENT ON COLUMN scoring.churn_scores.contact_cost IS 'Cost of sending this customer''s offer once, in the export''s money unit (config/segments.yaml offer cost).';
COMMENT ON COLUMN scoring.churn_scores.policy IS 'What decided send_offer: rules (the segment''s treatment group, riskiest first within the budget), uplift (highest expected_value first within the budget) or exploration (the random slice kept under the experiment''s assignment).';


-- The segment rules of each rule-file version that was used (titles, offers, precedence for BI).
CREATE TABLE IF NOT EXISTS scoring.segment_rules (
    rules_version  text     NOT NULL,
    segment        text     NOT NULL,
    precedence     integer  NOT NULL,  -- 1 = checked first; a customer gets the first matching segment
    title          text     NOT NULL,
    description    text     NOT NULL,
    offer_code     text     NOT NULL,
    offer          text     NOT NULL,
    conditions     jsonb    NOT NULL,  -- the rule's `when` as written in the rule file
    rules_sha256   text     NOT NULL,  -- of the whole rule file: one version, one content
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rules_version, segment),
    UNIQUE (rules_version, precedence)
);

-- The reason phrases of each rule-file version: a score row stores only (feature, direction,
-- value, impact) of its reasons, and mart.churn_scores_latest joins the text in ({value} filled
-- with a category's value), so the phrases are stored once per version, not once per customer.
CREATE TABLE IF NOT EXISTS scoring.factor_phrases (
    rules_version  text  NOT NULL,
    feature        text  NOT NULL,  -- a model input
    direction      text  NOT NULL CHECK (direction IN ('low', 'high', 'value')),
    phrase         text  NOT NULL,
    PRIMARY KEY (rules_version, feature, direction)
);

-- Population stability index per run: each model input and the score vs the model's training snapshot.
CREATE TABLE IF NOT EXISTS scoring.drift_psi (
    score_date          date             NOT NULL,
    model_version       text             NOT NULL REFERENCES ml.model_registry (model_version),
    variable            text             NOT NULL,  -- a model input column, or 'churn_probability'
    variable_kind       text             NOT NULL CHECK (variable_kind IN ('feature', 'score')),
    psi                 double precision NOT NULL CHECK (psi >= 0),
    status              text             NOT NULL CHECK (status IN ('stable', 'watch', 'shifted')),
    customers           bigint           NOT NULL,  -- scored customers compared
    reference_snapshot  date             NOT NULL,
    reference_rows      integer          NOT NULL,
    bins                jsonb            NOT NULL,  -- {labels, expected, actual} shares per bin
    computed_at         timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (score_date, model_version, variable)
);

COMMENT ON TABLE scoring.drift_psi IS
    'PSI of each model input and of churn_probability against the model''s training snapshot, per scoring run; > 0.2 is logged as a warning.';

-- Customers missing from the newest published snapshot date, each with its newest earlier date:
-- with that date's partition they are mart.churn_scores_latest (one row per customer), so the
-- view never runs a DISTINCT ON over the whole history. Kept at every publish
-- (sql/scoring/merge_into_absent_from_newest.sql).
CREATE TABLE IF NOT EXISTS scoring.absent_from_newest (
    customer_id     bigint            PRIMARY KEY,
    score_date      date              NOT NULL,  -- the customer's newest scored snapshot date
    profit_at_risk  double precision  NOT NULL   -- of that score: BI's top-N reads it in order
);
CREATE INDEX IF NOT EXISTS absent_from_newest_profit_at_risk_idx
    ON scoring.absent_from_newest (profit_at_risk DESC);
COMMENT ON TABLE scoring.absent_from_newest IS
    'Customers scored before but not on the newest score date (left the export, or not active 3 months), with their newest score date.';
