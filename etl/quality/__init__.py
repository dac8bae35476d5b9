"""Great Expectations quality gates on the warehouse tables of one snapshot.

Why: a bad export must stop `churn_ingest` before it reaches features or scores, and whoever reads
the failed task's log must see what is wrong (table, column, how many rows, sample values) without
opening another tool.

How:
- `expectations/<table>.json` hold one suite per guarded table (format: expectations/README.md).
  Each expectation is `critical` (fails the gate) or `warning` (recorded and logged, the run goes
  on); GX 1.x carries the same two severities, so Data Docs show them too.
- `gate.validate(engine, layer, snapshot_date)` runs every suite of a layer with GX *in the
  database*: a SQL datasource with one query asset per suite,
  `SELECT * FROM <table> WHERE snapshot_date = '<date>'` (rendered by SQLAlchemy from a
  `datetime.date`, never from text), so partition pruning applies; GX materialises it as a
  server-side temp table and computes every metric in SQL, nothing is pulled into pandas.
  Cross-table rules (same ids in every file, 3 revenue rows per customer, relative row counts)
  are `UnexpectedRowsExpectation` queries over `{batch}`.
- Results: one `dq.validation_runs` row per suite, written in its own transaction so a failed gate
  is recorded too; the pages of the `docs` publisher the caller passes (the pipelines pass
  `etl.data_docs.DataDocs()`: GX Data Docs under `reports_dir()/data_docs`, the index path is
  logged); a table of failed expectations in the log; `QualityGateFailed` when any critical one failed.
- Values from the data are HTML-escaped in what GX renders (Data Docs are opened in a browser,
  see `etl.data_docs.for_data_docs`) and stay plain in dq.validation_runs, the log and the exception,
  where invisible characters are shown as escapes (`etl.warehouse.text.visible`).

The warehouse URL reaches GX only as the in-memory config variable `${GX_WAREHOUSE_URL}`
(`runtime_environment`), so no password is ever written into a GX file.
Modules: `suites` (the suite files), `results` (findings, suite and gate results), `gate` (the GX
run, the dq record, and `Publisher`: what it asks of whoever shows its results), `samples` (values
fetched only for what failed), `single_pass` (the unexpected-rows check, its query run once). Data Docs are a
room of their own, etl/data_docs, above this one. The names re-exported here are the package's interface.

GX's own INFO logging (on import: hundreds of "Skipping registering function …" lines; per
expectation: "_get_default_value called with key …") made up ~90 % of a gate task's log; it is
capped at WARNING here, before anything imports GX, so the log shows the gate's own table.
"""

import logging

logging.getLogger("great_expectations").setLevel(logging.WARNING)

from etl.quality.gate import Publisher, critical_failures, record, validate
from etl.quality.results import Finding, GateResult, QualityGateFailed, SuiteResult
from etl.quality.suites import (
    ExpectationSpec,
    Layer,
    SuiteFileError,
    SuiteSpec,
    load_suites,
    parse_suite,
    read_suite,
    to_gx,
)

__all__ = [
    "ExpectationSpec",
    "Finding",
    "GateResult",
    "Layer",
    "QualityGateFailed",
    "SuiteFileError",
    "Publisher",
    "SuiteResult",
    "SuiteSpec",
    "critical_failures",
    "load_suites",
    "parse_suite",
    "read_suite",
    "record",
    "to_gx",
    "validate",
]
