"""The data-engineering side of the churn job, one sub-package a room, lowest first:

- `etl.warehouse` — the kernel: settings from the environment, engines and SQL files, the embedded
  server, the declaration of the raw export (`sources`), text helpers. Imports nothing above it.
- `etl.quality` — the Great Expectations gate: suite files, results, the gate run, Data Docs.
- `etl.ops` — per-date claims and write-audit-publish bookkeeping shared by ingest and scoring.
- `etl.ingest` — the ingest pipeline: COPY loader, column checks, the staging/features steps.
- `etl.synth` — the synthetic export generator for demos and benchmarks.

`ml` sits above `etl`; `job` (Airflow glue, `make run`) above both; `dags/` on top.
tests/unit/test_architecture.py holds the allowed directions.
"""
