-- Revision 0005 (etl/warehouse/migrations/versions/0005_offers_by_value.py): offers by value.
-- The score tables gain the targeting columns (NULL in scores published before), offer_group
-- gains the policy's own groups and scoring.latest_scores is dropped (the mart views on it with
-- it). The revision then runs the idempotent schema files 060, 065, 075 and 080 again: the new
-- columns' comments, scoring.latest_scores with the new columns, outcomes.settled_score_dates
-- and the targeting tables; the
-- mart views are re-created from sql/mart after every revision.
ALTER TABLE scoring.churn_scores_staged
    ADD COLUMN send_offer boolean,
    ADD COLUMN treatment_probability double precision,
    ADD COLUMN expected_uplift double precision,
    ADD COLUMN expected_value double precision,
    ADD COLUMN contact_cost double precision,
    ADD COLUMN policy text;

ALTER TABLE scoring.churn_scores
    DROP CONSTRAINT churn_scores_offer_group_known,
    ADD CONSTRAINT churn_scores_offer_group_known
        CHECK (offer_group IN ('treatment', 'holdout', 'targeted', 'not_targeted')),
    ADD COLUMN send_offer boolean,
    ADD COLUMN treatment_probability double precision
        CONSTRAINT churn_scores_treatment_probability_range CHECK (treatment_probability BETWEEN 0 AND 1),
    ADD COLUMN expected_uplift double precision,
    ADD COLUMN expected_value double precision,
    ADD COLUMN contact_cost double precision
        CONSTRAINT churn_scores_contact_cost_known CHECK (contact_cost >= 0),
    ADD COLUMN policy text
        CONSTRAINT churn_scores_policy_known CHECK (policy IN ('rules', 'uplift', 'exploration'));

-- Realized performance is over every customer sent no offer once a budget leaves some out.
ALTER TABLE outcomes.realized_performance
    DROP CONSTRAINT realized_performance_evaluated_on_check,
    ADD CONSTRAINT realized_performance_evaluated_on_check
        CHECK (evaluated_on IN ('holdout', 'untreated', 'all settled'));

DROP VIEW scoring.latest_scores CASCADE;
