-- The largest PSI of :score_date and the variables above the warning level (status shifted).
WITH psi AS (
    SELECT * FROM scoring.drift_psi WHERE score_date = :score_date
)

SELECT
    max(psi) AS psi_max,
    (array_agg(variable ORDER BY psi DESC, variable))[1] AS psi_max_variable,
    array_agg(variable ORDER BY psi DESC, variable) FILTER (WHERE status = 'shifted') AS psi_shifted
FROM psi;
