-- Record that the gate run :gate_run_id passed exactly batch :batch_id (no row: it was rebuilt).
UPDATE ops.staged_batches
SET gate_run_id = :gate_run_id, audited_at = now()
WHERE layer = :layer AND snapshot_date = :snapshot_date AND batch_id = :batch_id AND published_at IS NULL;
