-- After :score_date was published: keep scoring.absent_from_newest = every customer scored before
-- but not on the newest date, with their newest date. Touches only what the publish changed:
-- the nightly case (a new newest date) is one anti-join of two dates' partitions.
-- :previous_newest = the newest date before this publish (sql/scoring/select_scores_leaving_date.sql).

-- 1. A new newest date: the previous newest date's customers that it lacks are absent from now on.
INSERT INTO scoring.absent_from_newest (customer_id, score_date, profit_at_risk)
SELECT previous.customer_id, previous.score_date, previous.profit_at_risk
FROM scoring.churn_scores AS previous
WHERE previous.score_date = :previous_newest
  AND :score_date > :previous_newest
  AND NOT EXISTS (
      SELECT 1 FROM scoring.churn_scores AS newest
      WHERE newest.score_date = :score_date AND newest.customer_id = previous.customer_id)
ON CONFLICT (customer_id) DO UPDATE
    SET score_date = EXCLUDED.score_date, profit_at_risk = EXCLUDED.profit_at_risk
    WHERE EXCLUDED.score_date >= absent_from_newest.score_date;

-- 2. An older date published again: its customers missing from the newest date are absent, from
--    this date at the latest.
INSERT INTO scoring.absent_from_newest (customer_id, score_date, profit_at_risk)
SELECT older.customer_id, older.score_date, older.profit_at_risk
FROM scoring.churn_scores AS older
WHERE older.score_date = :score_date
  AND :score_date < :previous_newest
  AND NOT EXISTS (
      SELECT 1 FROM scoring.churn_scores AS newest
      WHERE newest.score_date = :previous_newest AND newest.customer_id = older.customer_id)
ON CONFLICT (customer_id) DO UPDATE
    SET score_date = EXCLUDED.score_date, profit_at_risk = EXCLUDED.profit_at_risk
    WHERE EXCLUDED.score_date >= absent_from_newest.score_date;

-- 3. Customers this publish dropped from the date: their newest score on another date, if any.
DELETE FROM scoring.absent_from_newest AS absent
USING scores_leaving_date AS leaving
WHERE absent.customer_id = leaving.customer_id;

INSERT INTO scoring.absent_from_newest (customer_id, score_date, profit_at_risk)
SELECT DISTINCT ON (leaving.customer_id) leaving.customer_id, scores.score_date, scores.profit_at_risk
FROM scores_leaving_date AS leaving
JOIN scoring.churn_scores AS scores ON scores.customer_id = leaving.customer_id
ORDER BY leaving.customer_id, scores.score_date DESC;

-- 4. Whoever is on the newest date is not absent.
DELETE FROM scoring.absent_from_newest AS absent
WHERE EXISTS (
    SELECT 1 FROM scoring.churn_scores AS newest
    WHERE newest.score_date = (SELECT max(score_date) FROM scoring.churn_scores)
      AND newest.customer_id = absent.customer_id);

DROP TABLE scores_leaving_date;

-- 5. The newest-partition view names the newest date's partition again (sql/schema/065).
SELECT scoring.point_newest_scores();
