-- Record that batch :batch_id of (:layer, :snapshot_date) was published.
UPDATE ops.staged_batches
SET published_at = now(), last_published_at = now()
WHERE layer = :layer AND snapshot_date = :snapshot_date AND batch_id = :batch_id;
