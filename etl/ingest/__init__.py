"""The ingest pipeline: the four CSV exports → raw (COPY, `loader`, `column_profile`) → raw gate →
staging → staged features → features gate → publish. Its face is `steps`, re-exported here, so
a DAG task or a test writes `ingest.load_raw(engine, snapshot_date, data_dir=…)`; the step order is
job/pipelines/ingest.py's."""

from etl.ingest.steps import (
    build_features,
    build_staging,
    load_raw,
    publish_features,
    validate_features,
    validate_raw,
)

__all__ = [
    "build_features",
    "build_staging",
    "load_raw",
    "publish_features",
    "validate_features",
    "validate_raw",
]
