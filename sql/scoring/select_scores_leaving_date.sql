-- Before a publish of :score_date: the newest published date so far, and (temp table
-- scores_leaving_date) the customers the date's published scores have but its staged ones lack.
-- sql/scoring/merge_into_absent_from_newest.sql needs both after the partitions are swapped.
-- The newest-partition view lets go of its partition, which the swap may drop.
SELECT scoring.point_newest_scores(unpoint => true);

DROP TABLE IF EXISTS pg_temp.scores_leaving_date;
CREATE TEMP TABLE scores_leaving_date ON COMMIT DROP AS
SELECT published.customer_id
FROM scoring.churn_scores AS published
WHERE published.score_date = :score_date
  AND NOT EXISTS (
      SELECT 1 FROM scoring.churn_scores_staged AS staged
      WHERE staged.score_date = :score_date AND staged.customer_id = published.customer_id);

SELECT max(score_date) AS previous_newest FROM scoring.churn_scores;
