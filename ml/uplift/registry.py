"""The uplift models' registry (ml.uplift_models) and artifacts, beside the churn model's.

An artifact is a joblib bundle of the fitted models per offer family, checked against its
sha256 and library versions before it is unpickled (ml.registry's rules). Every training run is
a row, also one without enough data (status insufficient_data, no artifact), so the targeting
step can say why the rules still decide.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

from ml import registry

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ml.uplift.learners import UpliftModel

ARTIFACT_NAME = "uplift.joblib"


def get_champion(engine: sa.Engine) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        row = db.run_sql(conn, "uplift", "select_uplift_champion").mappings().first()
    return dict(row) if row else None


def get_latest(engine: sa.Engine) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        row = db.run_sql(conn, "uplift", "select_latest_uplift_model").mappings().first()
    return dict(row) if row else None


def get_by_run_key(engine: sa.Engine, run_key: str) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        row = db.run_sql(conn, "uplift", "select_uplift_model_by_run_key", {"run_key": run_key}).mappings().first()
    return dict(row) if row else None


def save_models(model_version: str, models: Mapping[str, UpliftModel], method: str) -> tuple[str, str]:
    """(path, sha256) of the written bundle."""
    from etl.warehouse import settings

    path = settings.model_store_dir() / model_version / ARTIFACT_NAME
    bundle = {"models": dict(models), "method": method}
    return str(path), registry.save_artifact(bundle, path)


def load_models(row: Mapping[str, Any]) -> dict[str, UpliftModel]:
    """The champion's models per family, after the integrity checks (ModelRegistryError): the
    bytes' sha256 and the library versions recorded in its metrics."""
    versions = row["metrics"].get("library_versions", {})
    bundle = registry.verify_and_load(row["artifact_path"], row["artifact_sha256"], versions, row["model_version"])
    return dict(bundle["models"])


def register(engine: sa.Engine, record: Mapping[str, Any], promote: bool) -> dict[str, Any]:
    """Insert the run's row (a retry of the run changes nothing) and apply the gate: promote
    (the champion retires, one transaction) or reject; insufficient_data rows stay as they are."""
    from etl.warehouse import db

    params = {**record, "metrics": json.dumps(record["metrics"], default=float)}
    with engine.begin() as conn:
        db.run_sql(conn, "ml", "lock_model_registry")
        db.run_sql(conn, "uplift", "insert_uplift_model", params)
        if record["status"] == "challenger":
            if promote:
                db.run_sql(conn, "uplift", "promote_uplift_model", {"model_version": record["model_version"]})
            else:
                db.run_sql(
                    conn,
                    "uplift",
                    "update_uplift_model_status",
                    {"model_version": record["model_version"], "status": "rejected"},
                )
        row = db.run_sql(conn, "uplift", "select_uplift_model_by_run_key", {"run_key": record["run_key"]})
        return dict(row.mappings().one())
