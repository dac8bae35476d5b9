-- scoring.latest_scores: the newest score of every customer ever scored — the newest date's
-- partition (in_newest_snapshot) plus, for customers missing from it, their newest earlier score
-- (scoring.absent_from_newest). One row per customer without a DISTINCT ON over the history:
-- at 1M customers × a year of dates BI's «top N by profit at risk» reads the newest partition in
-- index order. The mart views (sql/mart) are built on it.
CREATE OR REPLACE VIEW scoring.latest_scores AS
SELECT scores.*, true AS in_newest_snapshot
FROM scoring.churn_scores AS scores
WHERE scores.score_date = (SELECT max(score_date) FROM scoring.churn_scores)

UNION ALL

SELECT scores.*, false AS in_newest_snapshot
FROM scoring.absent_from_newest AS absent
JOIN scoring.churn_scores AS scores
    ON scores.score_date = absent.score_date AND scores.customer_id = absent.customer_id;

COMMENT ON VIEW scoring.latest_scores IS
    'The newest churn score of every customer: the newest score date''s rows, and the newest earlier row of customers missing from it (in_newest_snapshot false).';
