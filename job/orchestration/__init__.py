"""Airflow glue: what DAG files import at parse time (kept light: no pandas, sklearn or GX)."""
