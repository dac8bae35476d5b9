"""Model registry (`ml.model_registry`) and the model store: save, verify, load, promote.

An artifact is a joblib "bundle" (dict: fitted calibrated model, feature lists, threshold, training
snapshot, reference bins for PSI, library versions …) at `<model store>/<model_version>/model.joblib`.
Loading reads the file's bytes, checks their sha256 against the registry and the recorded library
versions against this process BEFORE unpickling anything, and refuses a mismatch with
`ArtifactIntegrityError` / `LibraryVersionMismatch` (both `ModelRegistryError`).

Status flow: register → 'challenger'; the gate → 'champion' (old champion → 'retired', same
transaction) or 'rejected'. A partial unique index keeps at most one champion.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib")
ARTIFACT_NAME = "model.joblib"


class ModelRegistryError(RuntimeError):
    """A model cannot be used as registered."""


class ArtifactIntegrityError(ModelRegistryError):
    """The artifact is missing or its bytes differ from the registered sha256."""


class LibraryVersionMismatch(ModelRegistryError):
    """The artifact was saved with other library versions than this process runs."""


class NoChampionError(LookupError):
    """The registry has no champion yet (run churn_retrain)."""


def library_versions() -> dict[str, str]:
    """Versions that must match for a pickled pipeline to be trusted (python: major.minor)."""
    versions = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in LIBRARIES:
        versions[name] = metadata.version(name)
    return versions


def check_library_versions(recorded: Mapping[str, str], model_version: str = "model") -> None:
    current = library_versions()
    differences = [
        f"{name} {recorded.get(name)} (saved) vs {current.get(name)} (running)"
        for name in sorted(set(recorded) | set(current))
        if recorded.get(name) != current.get(name)
    ]
    if differences:
        raise LibraryVersionMismatch(
            f"refusing to load {model_version}: it was saved with other library versions: "
            + "; ".join(differences)
            + ". Install the recorded versions (constraints.txt) or retrain."
        )


def sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def artifact_path_for(model_version: str) -> Path:
    from etl.warehouse import settings

    return settings.model_store_dir() / model_version / ARTIFACT_NAME


def save_artifact(bundle: Mapping[str, Any], path: Path) -> str:
    """Write the bundle with joblib (atomically: temp file + rename); return its sha256."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(dict(bundle), buffer, compress=3)
    payload = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(payload)
    os.replace(temporary, path)
    return sha256_bytes(payload)


def verify_and_load(
    path: Path | str, expected_sha256: str, recorded_versions: Mapping[str, str], model_version: str = "model"
) -> dict[str, Any]:
    """Check bytes and library versions, then unpickle; raise ModelRegistryError on a mismatch."""
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ArtifactIntegrityError(f"refusing to load {model_version}: artifact {path} is missing")
    payload = path.read_bytes()
    actual = sha256_bytes(payload)
    if actual != expected_sha256:
        raise ArtifactIntegrityError(
            f"refusing to load {model_version}: {path} has sha256 {actual}, the registry says "
            f"{expected_sha256} — the file was changed or replaced after registration"
        )
    check_library_versions(recorded_versions, model_version)
    return joblib.load(io.BytesIO(payload))


# --- database ---------------------------------------------------------------------------------


def _row(result: Any) -> dict[str, Any] | None:
    row = result.mappings().first()
    return dict(row) if row is not None else None


def get_model(engine: sa.Engine, model_version: str) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        return _row(db.run_sql(conn, "ml", "select_model", {"model_version": model_version}))


def get_by_run_key(engine: sa.Engine, run_key: str) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        return _row(db.run_sql(conn, "ml", "select_model_by_run_key", {"run_key": run_key}))


def get_champion(engine: sa.Engine) -> dict[str, Any] | None:
    from etl.warehouse import db

    with engine.connect() as conn:
        return _row(db.run_sql(conn, "ml", "select_champion"))


JSON_COLUMNS = ("parameters", "features", "metrics", "decision", "reference", "library_versions")


def register(engine: sa.Engine, record: Mapping[str, Any]) -> None:
    """Insert a model as 'challenger' (record keys = insert_model.sql parameters)."""
    from etl.warehouse import db

    params = {k: (json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS else v) for k, v in record.items()}
    with engine.begin() as conn:
        db.run_sql(conn, "ml", "lock_model_registry")
        db.run_sql(conn, "ml", "insert_model", params)
    log.info("registered %s as challenger", record["model_version"])


def promote(engine: sa.Engine, model_version: str, expected_champion: str | None) -> str | None:
    """Make a challenger the champion; retire the old one in the same transaction.

    `expected_champion` is the champion the gate compared against: if another run changed the
    champion meanwhile the comparison is stale and nothing changes (ModelRegistryError).
    Returns the retired model_version (None for the first champion).
    """
    from etl.warehouse import db

    with engine.begin() as conn:
        db.run_sql(conn, "ml", "lock_model_registry")
        current = _row(db.run_sql(conn, "ml", "select_champion"))
        current_version = current["model_version"] if current else None
        if current_version != expected_champion:
            raise ModelRegistryError(
                f"not promoting {model_version}: the gate compared it with champion {expected_champion}, "
                f"but the champion is now {current_version}; retrain to compare again"
            )
        retired = db.run_sql(conn, "ml", "retire_champion").scalars().all()
        promoted = db.run_sql(conn, "ml", "promote_challenger", {"model_version": model_version}).scalars().all()
        if promoted != [model_version]:
            raise ModelRegistryError(f"{model_version} is not a registered challenger")
    previous = retired[0] if retired else None
    log.info("promoted %s to champion (retired: %s)", model_version, previous or "none")
    return previous


def roll_back(engine: sa.Engine, changed_by: str, reason: str) -> dict[str, str]:
    """Make the previous champion (the model retired last) the champion again; the current one
    is retired. One transaction; both rows record who did it and why.

    The previous artifact is verified (sha256, library versions) before anything changes, so a
    rollback never promotes a model that cannot be loaded.
    """
    from etl.warehouse import db

    with engine.begin() as conn:
        db.run_sql(conn, "ml", "lock_model_registry")
        current = _row(db.run_sql(conn, "ml", "select_champion"))
        previous = _row(db.run_sql(conn, "ml", "select_previous_champion"))
        if current is None:
            raise NoChampionError("ml.model_registry has no champion to roll back")
        if previous is None:
            raise ModelRegistryError(
                f"nothing to roll back to: no model was champion before {current['model_version']}"
            )
        verify_and_load(
            previous["artifact_path"],
            previous["artifact_sha256"],
            previous["library_versions"],
            previous["model_version"],
        )
        for model_version, from_status, to_status in (
            (current["model_version"], "champion", "retired"),
            (previous["model_version"], "retired", "champion"),
        ):
            db.run_sql(
                conn,
                "ml",
                "update_model_status",
                {
                    "model_version": model_version,
                    "from_status": from_status,
                    "to_status": to_status,
                    "changed_by": changed_by,
                    "reason": f"rollback: {reason}",
                },
            )
    log.info(
        "rolled back: %s is the champion again, %s retired (%s, by %s)",
        previous["model_version"],
        current["model_version"],
        reason,
        changed_by,
    )
    return {"champion": previous["model_version"], "retired": current["model_version"]}


def reject(engine: sa.Engine, model_version: str) -> None:
    from etl.warehouse import db

    with engine.begin() as conn:
        db.run_sql(conn, "ml", "lock_model_registry")
        rejected = db.run_sql(conn, "ml", "reject_challenger", {"model_version": model_version}).scalars().all()
    if rejected != [model_version]:
        raise ModelRegistryError(f"{model_version} is not a registered challenger")
    log.info("rejected %s; the champion stays", model_version)


def load_bundle(engine: sa.Engine, model_version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(verified artifact bundle, registry row) of one model version."""
    row = get_model(engine, model_version)
    if row is None:
        raise LookupError(f"no model {model_version} in ml.model_registry")
    bundle = verify_and_load(row["artifact_path"], row["artifact_sha256"], row["library_versions"], model_version)
    return bundle, row


def load_champion(engine: sa.Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    """(verified artifact bundle, registry row) of the champion, as `load_bundle` gives them.

    `bundle["model"].predict_proba(ml.features.to_model_input(frame))[:, 1]` is the churn
    probability; the row has `threshold`, `features` and `reference` (PSI bins);
    `ml.evaluation.base_pipeline` gives the fitted pipeline behind the calibration and
    `ml.scoring.Champion.from_bundle` wraps both for scoring.
    """
    row = get_champion(engine)
    if row is None:
        raise NoChampionError("ml.model_registry has no champion: run the churn_retrain DAG first")
    return load_bundle(engine, row["model_version"])


def describe_champion(engine: sa.Engine) -> dict[str, Any]:
    """The champion in a few JSON-able fields, for logs, `churn status` and `make run` ({} when there is none)."""
    row = get_champion(engine)
    if row is None:
        return {}
    return {
        "model_version": row["model_version"],
        "algorithm": row["algorithm"],
        "estimator": row["estimator"],
        "training_snapshot": row["training_snapshot"].isoformat(),
        "cv_roc_auc_mean": row["cv_roc_auc_mean"],
        "cv_roc_auc_std": row["cv_roc_auc_std"],
        "brier_score": row["brier_score"],
        "threshold": row["threshold"],
        "model_card_path": row["model_card_path"],
    }
