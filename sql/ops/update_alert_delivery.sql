-- How the webhook answered :alert_key: delivered (the time) or not (the last error).
UPDATE ops.alerts
SET attempts = :attempts,
    delivered_at = CASE WHEN CAST(:delivered AS boolean) THEN now() END,
    last_error = :last_error
WHERE alert_key = :alert_key;
