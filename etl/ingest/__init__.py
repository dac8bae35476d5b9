"""The ingest pipeline: the four CSV exports → raw (COPY, `loader`, `column_profile`) → raw gate →
staging → staged features → features gate → publish. Its face is `steps`, re-exported here, so
a DAG task or a test writes `ingest.load_raw(engine, data_dir, snapshot_date)`."""
from etl.ingest.steps import (
    build_features,
    build_staging,
    load_raw,
    publish_features,
    run_snapshot,
    validate_features,
    validate_raw,
)

__all__ = [
    "build_features", "build_staging", "load_raw", "publish_features", "run_snapshot",
    "validate_features", "validate_raw",
]
