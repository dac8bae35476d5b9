-- The newest build of the staged rows of (:layer, :snapshot_date), locked for the transaction.
SELECT layer, snapshot_date, batch_id, run_id, rows, staged_at, gate_run_id, audited_at, published_at
FROM ops.staged_batches
WHERE layer = :layer AND snapshot_date = :snapshot_date
FOR UPDATE;
