"""`make airflow`: a real local Airflow (scheduler, dag-processor, triggerer, API server) and
the process groups it starts and stops."""
