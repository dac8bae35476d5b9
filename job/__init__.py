"""How the job runs, above both `etl` and `ml`, one sub-package per way of running it:

- `pipelines` — each pipeline (ingest, score, settle, retrain) declared once: its ordered steps.
- `orchestration` — Airflow glue: the DAG factory, task runtime, Assets, alerts, the export sensor.
- `local` — `make run`: the whole job on this machine, its progress lines and summary.
- `deployment` — `make airflow`: a real local Airflow and the processes it starts.
- `cli` — `churn`: the operator's command line.

Kept light at import: DAG files import `job.pipelines` and `job.orchestration` at parse time.
"""
