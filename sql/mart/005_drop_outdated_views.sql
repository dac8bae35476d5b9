-- Views whose columns changed since an older warehouse was built: CREATE OR REPLACE VIEW only
-- appends columns, so the old shape is dropped first (BI sees the new one in the same migration
-- transaction). No CASCADE: anything else built on a mart view stops the upgrade instead.
DO $$
BEGIN
    IF to_regclass('mart.segment_summary') IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'mart' AND table_name = 'segment_summary' AND column_name = 'offer_code'
    ) THEN
        DROP VIEW mart.segment_summary;
    END IF;
    IF to_regclass('mart.churn_scores_latest') IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'mart' AND table_name = 'churn_scores_latest' AND column_name = 'in_newest_snapshot'
    ) THEN
        DROP VIEW mart.churn_scores_latest;
    END IF;
END
$$;
