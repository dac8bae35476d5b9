-- Snapshots churn_score must (re)score, whichever Asset events reached its run: Airflow merges,
-- and can drop, events that arrive while a run is queued, so the warehouse is the record. Each
-- snapshot whose features were last published after its scores (or that has no scores), and the
-- newest snapshot when its scores are not the champion's (a promotion rescoring it). A rescoring
-- whose gate failed leaves the earlier scores published: the date is not due again for it.
WITH published_features AS (
    SELECT snapshot_date, last_published_at AS published_at
    FROM ops.staged_batches
    WHERE layer = 'features' AND last_published_at IS NOT NULL
),

published_scores AS (
    SELECT snapshot_date, last_published_at AS published_at
    FROM ops.staged_batches
    WHERE layer = 'scoring'
),

newest AS (
    SELECT max(snapshot_date) AS snapshot_date FROM published_features
)

SELECT f.snapshot_date
FROM published_features AS f
LEFT JOIN published_scores AS s USING (snapshot_date)
WHERE s.published_at IS NULL OR s.published_at < f.published_at
UNION
SELECT newest.snapshot_date
FROM newest
WHERE EXISTS (
    SELECT 1
    FROM scoring.churn_scores AS c
    JOIN ml.model_registry AS champion ON champion.status = 'champion'
    WHERE c.score_date = newest.snapshot_date AND c.model_version <> champion.model_version
)
ORDER BY snapshot_date;
