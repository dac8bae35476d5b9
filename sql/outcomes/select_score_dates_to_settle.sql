-- Scored snapshot dates the run of :snapshot_date (re)settles, each with the snapshot that settles it (the
-- first published one on or after settles_from: outcomes.score_dates, sql/schema/075):
-- the dates it settles (its labels just arrived or were republished), the date itself when it is
-- settled already (its scores were just republished), and any settled date without outcomes yet.
WITH published_snapshots AS (
    SELECT snapshot_date
    FROM ops.staged_batches
    WHERE layer = 'features' AND last_published_at IS NOT NULL
),

settling AS (
    SELECT
        dates.score_date,
        (SELECT min(later.snapshot_date)
         FROM published_snapshots AS later
         WHERE later.snapshot_date >= dates.settles_from) AS settled_by
    FROM outcomes.score_dates AS dates
)

SELECT settling.score_date, settling.settled_by
FROM settling
WHERE settling.settled_by IS NOT NULL
  AND (settling.settled_by = :snapshot_date
       OR settling.score_date = :snapshot_date
       OR NOT EXISTS (SELECT 1 FROM outcomes.realized_performance AS done
                      WHERE done.score_date = settling.score_date))
ORDER BY settling.score_date;
