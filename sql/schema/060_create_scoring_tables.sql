-- scoring: the nightly churn scores of every active customer, the rule file versions that assigned
-- segments and offers, and drift monitoring (PSI). Written by ml/scoring/steps.py and ml/monitoring.py.
--
-- Flow of one run (dags/churn_score.py): score → the date's partition of scoring.churn_scores_staged
-- (created or emptied, rows by COPY) → GX gate on the staged rows → publish = that partition, with
-- the published table's constraints added, is detached from staged and attached to
-- scoring.churn_scores in place of the date's old partition (scoring.publish_staged_partition):
-- the rows are written once, and a failed gate leaves the published date untouched → PSI into
-- scoring.drift_psi.

-- Warehouses built before: the staged table had another name, and both tables were plain tables.
-- Plain ones are set aside here (their indexes renamed with them) and their rows moved into
-- partitions at the end of this file; sql/mart/090_drop_unpartitioned_scores.sql drops them once
-- the mart views no longer read them.
ALTER TABLE IF EXISTS scoring.churn_scores_pending RENAME TO churn_scores_staged;
ALTER INDEX IF EXISTS scoring.churn_scores_pending_date_idx RENAME TO churn_scores_staged_date_idx;
DO $$
DECLARE
    name text;
    old_index regclass;
BEGIN
    FOREACH name IN ARRAY ARRAY['churn_scores', 'churn_scores_staged'] LOOP
        IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('scoring.' || name)) = 'r' THEN
            FOR old_index IN SELECT indexrelid::regclass FROM pg_index WHERE indrelid = to_regclass('scoring.' || name) LOOP
                EXECUTE format('ALTER INDEX %s RENAME TO %I', old_index,
                               (SELECT relname FROM pg_class WHERE oid = old_index) || '_unpartitioned');
            END LOOP;
            EXECUTE format('ALTER TABLE scoring.%I DROP CONSTRAINT IF EXISTS churn_scores_model_version_fkey', name);
            EXECUTE format('ALTER TABLE scoring.%I RENAME TO %I', name, name || '_unpartitioned');
        END IF;
    END LOOP;
END
$$;

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
    scored_at          timestamptz      NOT NULL DEFAULT now()
) PARTITION BY LIST (score_date);

-- Published scores: history, one row per (score_date, customer_id), one partition per date; a
-- date is replaced as a whole. The checks are named: publish adds the same ones to the staged
-- partition before attaching it (ATTACH requires them).
CREATE TABLE IF NOT EXISTS scoring.churn_scores (
    score_date         date             NOT NULL,
    customer_id        bigint           NOT NULL,
    model_version      text             NOT NULL,
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
    PRIMARY KEY (score_date, customer_id)
) PARTITION BY LIST (score_date);
CREATE INDEX IF NOT EXISTS churn_scores_customer_idx ON scoring.churn_scores (customer_id, score_date DESC);

COMMENT ON TABLE scoring.churn_scores IS
    'Churn scores of every «active 3 months» customer per snapshot (score_date), published after the GX gate; a rerun replaces the date.';
COMMENT ON COLUMN scoring.churn_scores.score_date IS 'Snapshot date of the features that were scored (the DAG run''s snapshot).';
COMMENT ON COLUMN scoring.churn_scores.customer_id IS 'Customer id as in the export (id).';
COMMENT ON COLUMN scoring.churn_scores.model_version IS 'Champion model (ml.model_registry.model_version) that produced the probability.';
COMMENT ON COLUMN scoring.churn_scores.churn_probability IS 'Calibrated probability that the customer''s purchasing activity drops («Снизилась»), 0..1.';
COMMENT ON COLUMN scoring.churn_scores.risk_band IS 'high: probability >= the model''s threshold (ml.model_registry.threshold); medium: >= half of it; low: below (config/segments.yaml).';
COMMENT ON COLUMN scoring.churn_scores.segment IS 'Marketing segment code, first matching rule of config/segments.yaml (see scoring.segment_rules).';
COMMENT ON COLUMN scoring.churn_scores.offer IS 'Short text of the offer for the segment.';
COMMENT ON COLUMN scoring.churn_scores.top_factors IS 'Up to 3 reasons that push this customer''s probability up most: [{feature, direction, text, impact}], impact = probability minus the probability with that feature at its training median/mode.';
COMMENT ON COLUMN scoring.churn_scores.profit IS 'Average monthly profit from the customer over the last 3 months (money.csv «Прибыль»).';
COMMENT ON COLUMN scoring.churn_scores.rules_version IS 'Version of config/segments.yaml that assigned segment and offer.';
COMMENT ON COLUMN scoring.churn_scores.scored_at IS 'When the scores were computed.';

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

-- Population stability index per run: each model input and the score vs the model's training snapshot.
CREATE TABLE IF NOT EXISTS scoring.drift_psi (
    score_date          date             NOT NULL,
    model_version       text             NOT NULL,
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

-- Scores and drift rows name the model that produced them: a registry row cannot be deleted
-- while anything refers to it (added idempotently, also to databases created before).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'churn_scores_model_version_fkey'
                   AND conrelid = 'scoring.churn_scores'::regclass) THEN
        ALTER TABLE scoring.churn_scores ADD CONSTRAINT churn_scores_model_version_fkey
            FOREIGN KEY (model_version) REFERENCES ml.model_registry (model_version);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'drift_psi_model_version_fkey') THEN
        ALTER TABLE scoring.drift_psi ADD CONSTRAINT drift_psi_model_version_fkey
            FOREIGN KEY (model_version) REFERENCES ml.model_registry (model_version);
    END IF;
END
$$;

-- Publish the staged partition of `day` (the caller holds the scoring lock and has gated it): add
-- the published table's NOT NULLs and checks (read from the catalogue, so stated once, in one
-- scan that also proves the partition bound), drop the date's published partition, attach the
-- staged one in its place. The rows are not copied; the indexes are built once, by ATTACH.
-- Returns the published rows. Readers of scoring.churn_scores wait only when a date is replaced.
CREATE OR REPLACE FUNCTION scoring.publish_staged_partition(day date)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    staged text := ops.partition_name('scoring.churn_scores_staged', day);
    published text := ops.partition_name('scoring.churn_scores', day);
    bound text := 'churn_scores_p' || to_char(day, 'YYYYMMDD') || '_bound';
    rules text;
    published_rows bigint;
BEGIN
    IF to_regclass(staged) IS NULL THEN
        RAISE EXCEPTION 'no staged scores of % to publish', day;
    END IF;
    EXECUTE format('ALTER TABLE scoring.churn_scores_staged DETACH PARTITION %s', staged);
    SELECT string_agg(rule, ', ') INTO rules FROM (
        SELECT format('ALTER COLUMN %I SET NOT NULL', attname) AS rule
        FROM pg_attribute
        WHERE attrelid = 'scoring.churn_scores'::regclass AND attnum > 0 AND NOT attisdropped AND attnotnull
        UNION ALL
        SELECT format('ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
        FROM pg_constraint
        WHERE conrelid = 'scoring.churn_scores'::regclass AND contype = 'c'
        UNION ALL
        SELECT format('ADD CONSTRAINT %I CHECK (score_date = %L::date)', bound, day)
    ) AS needed;
    EXECUTE format('ALTER TABLE %s %s', staged, rules);
    EXECUTE format('DROP TABLE IF EXISTS %s', published);
    EXECUTE format('ALTER TABLE %s RENAME TO %I', staged, 'churn_scores_p' || to_char(day, 'YYYYMMDD'));
    EXECUTE format('ALTER TABLE scoring.churn_scores ATTACH PARTITION %s FOR VALUES IN (%L)', published, day);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', published, bound);
    EXECUTE format('SELECT count(*) FROM %s', published) INTO published_rows;
    RETURN published_rows;
END;
$$;

-- Rows of the plain tables of older warehouses, moved into partitions (see the top of this file).
DO $$
DECLARE
    name text;
    day date;
BEGIN
    FOREACH name IN ARRAY ARRAY['churn_scores', 'churn_scores_staged'] LOOP
        IF to_regclass('scoring.' || name || '_unpartitioned') IS NOT NULL THEN
            FOR day IN EXECUTE format('SELECT DISTINCT score_date FROM scoring.%I', name || '_unpartitioned') LOOP
                PERFORM ops.replace_partition(('scoring.' || name)::regclass, day);
            END LOOP;
            EXECUTE format('INSERT INTO scoring.%I (score_date, customer_id, model_version, churn_probability, '
                           'risk_band, segment, offer, top_factors, profit, rules_version, scored_at) '
                           'SELECT score_date, customer_id, model_version, churn_probability, risk_band, '
                           'segment, offer, top_factors, profit, rules_version, scored_at FROM scoring.%I',
                           name, name || '_unpartitioned');
            EXECUTE format('TRUNCATE scoring.%I', name || '_unpartitioned');
        END IF;
    END LOOP;
END
$$;
