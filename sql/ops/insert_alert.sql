-- Record an alert once: no row comes back when :alert_key was raised already (a callback run again).
INSERT INTO ops.alerts (alert_key, text, payload)
VALUES (:alert_key, :text, CAST(:payload AS jsonb))
ON CONFLICT (alert_key) DO NOTHING
RETURNING alert_key;
