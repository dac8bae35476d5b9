-- Scored snapshot dates the run of :snapshot_date (re)settles, each with the snapshot that settles it (the
-- first published one on or after settles_from: outcomes.settled_score_dates, sql/schema/075):
-- the dates it settles (its labels just arrived or were republished), the date itself when it is
-- settled already (its scores were just republished), and any settled date without outcomes yet.
SELECT settled.score_date, settled.settled_by
FROM outcomes.settled_score_dates AS settled
WHERE settled.settled_by = :snapshot_date
   OR settled.score_date = :snapshot_date
   OR NOT EXISTS (SELECT 1 FROM outcomes.realized_performance AS done
                  WHERE done.score_date = settled.score_date)
ORDER BY settled.score_date;
