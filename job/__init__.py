"""How the job runs, above both `etl` and `ml`: inside Airflow tasks (`runtime`, `assets`) and as
`make run` (`run`, with its end-of-run `summary`).

Kept light at import: DAG files import `job.assets` and `job.runtime` at parse time.
"""
