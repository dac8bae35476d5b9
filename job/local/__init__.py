"""`make run`: the whole nightly job on this machine with `airflow dags test`, then a summary."""
