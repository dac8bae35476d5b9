-- The newest alerts the webhook did not take (`churn status`).
SELECT alert_key, text, raised_at, attempts, last_error
FROM ops.alerts
WHERE delivered_at IS NULL
ORDER BY raised_at DESC
LIMIT :limit;
