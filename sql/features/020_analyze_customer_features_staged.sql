-- Fresh statistics for the gate's and the publish step's queries.
ANALYZE features.customer_features_staged;
