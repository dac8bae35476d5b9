-- scoring.latest_scores: the newest score of every customer ever scored — the newest date's
-- partition (in_newest_snapshot) plus, for customers missing from it, their newest earlier score
-- (scoring.absent_from_newest). One row per customer without a DISTINCT ON over the history.
--
-- Why a view that names the newest partition (scoring.newest_scores, re-pointed by every publish)
-- instead of `WHERE score_date = (SELECT max(…))`: PostgreSQL flattens a UNION ALL only when its
-- branches have no WHERE, and only a flattened one reads each branch in index order. So BI's
-- «top N by profit at risk» reads N rows from the partition's (score_date, profit_at_risk) index
-- and from absent_from_newest's copy of it, at 1M customers × a year of dates, instead of
-- sorting the newest date. The absent customers' rows are fetched by key (OFFSET 0 keeps that a
-- lookup per customer, not a scan of every date). The mart views (sql/mart) are built on it.

-- Point scoring.newest_scores at the newest date's partition, or at nothing (`unpoint`: before a
-- publish drops the partition it names; publish points it again once the partitions are swapped).
CREATE OR REPLACE FUNCTION scoring.point_newest_scores(unpoint boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    newest date := CASE WHEN NOT unpoint THEN (SELECT max(score_date) FROM scoring.churn_scores) END;
BEGIN
    IF newest IS NULL THEN
        CREATE OR REPLACE VIEW scoring.newest_scores AS SELECT * FROM scoring.churn_scores WHERE false;
    ELSE
        EXECUTE format('CREATE OR REPLACE VIEW scoring.newest_scores AS SELECT * FROM %s',
                       ops.partition_name('scoring.churn_scores', newest));
    END IF;
END;
$$;

SELECT scoring.point_newest_scores();

COMMENT ON VIEW scoring.newest_scores IS
    'The partition of the newest published score date (re-pointed by every publish: scoring.point_newest_scores).';

CREATE OR REPLACE VIEW scoring.latest_scores AS
SELECT newest.*, true AS in_newest_snapshot
FROM scoring.newest_scores AS newest

UNION ALL

-- In profit_at_risk order (absent_from_newest's index): a top-N then fetches only N rows by key.
-- Key columns from absent_from_newest, so a filter on them is an index lookup there.
(SELECT
    absent.score_date, absent.customer_id, scores.model_version, scores.churn_probability,
    scores.risk_band, scores.segment, scores.offer, scores.top_factors, scores.profit,
    scores.rules_version, scores.scored_at, absent.profit_at_risk, scores.offer_group,
    scores.send_offer, scores.treatment_probability, scores.expected_uplift, scores.expected_value,
    scores.contact_cost, scores.policy,
    false AS in_newest_snapshot
FROM scoring.absent_from_newest AS absent
CROSS JOIN LATERAL (
    SELECT * FROM scoring.churn_scores AS row
    WHERE row.score_date = absent.score_date AND row.customer_id = absent.customer_id
    OFFSET 0
) AS scores
ORDER BY absent.profit_at_risk DESC);

COMMENT ON VIEW scoring.latest_scores IS
    'The newest churn score of every customer: the newest score date''s rows, and the newest earlier row of customers missing from it (in_newest_snapshot false).';
