-- A new build of the staged rows of (:layer, :snapshot_date): not gated, not published yet.
INSERT INTO ops.staged_batches AS b (layer, snapshot_date, batch_id, run_id, rows, staged_at)
VALUES (:layer, :snapshot_date, :batch_id, :run_id, :rows, now())
ON CONFLICT (layer, snapshot_date) DO UPDATE SET
    batch_id = EXCLUDED.batch_id, run_id = EXCLUDED.run_id, rows = EXCLUDED.rows,
    staged_at = EXCLUDED.staged_at, gate_run_id = NULL, audited_at = NULL, published_at = NULL
RETURNING layer, snapshot_date, batch_id, run_id, rows, staged_at, gate_run_id, audited_at, published_at;
