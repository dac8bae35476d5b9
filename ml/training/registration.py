"""What step 3 writes for the challenger: artifact bundle, model card, registry row.

The row carries the gate's verdict as 'challenger'; step 4 (`promotion.apply_gate`) applies it.
`registered_outcome` is the small JSON both steps return through XCom.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ml import candidates, evaluation, features, model_card, reference, registry

if TYPE_CHECKING:
    import numpy as np
    import sqlalchemy as sa

    from ml.training.dataset import TrainingSet

log = logging.getLogger(__name__)

# Registry columns an outcome repeats as they are (training_snapshot becomes ISO text).
_OUTCOME_COLUMNS = (
    "model_version",
    "status",
    "algorithm",
    "training_snapshot",
    "cv_roc_auc_mean",
    "cv_roc_auc_std",
    "brier_score",
    "threshold",
)


@dataclass(frozen=True, eq=False)  # frames and arrays have no plain ==
class Challenger:
    """Everything step 3 learned about the run's best family, ready to be written."""

    item: Mapping[str, Any]  # the run's family item (prepare), as step 2's files hold it
    data: TrainingSet
    budget: candidates.Budget
    ranked: list[dict[str, Any]]  # per-family details (step 2's JSON files), best first
    model: Any  # the best family's calibrated pipeline fitted on all rows
    decision: dict[str, Any]  # the gate's verdict plus the champion's side of the comparison
    importance: dict[str, dict[str, float]]  # permutation importance per input column

    @property
    def best(self) -> dict[str, Any]:
        return self.ranked[0]


def registered_outcome(row: Mapping[str, Any]) -> dict[str, Any]:
    """A registry row as the small JSON the retrain tasks hand on (XCom)."""
    decision = row["decision"]
    outcome = {column: row[column] for column in _OUTCOME_COLUMNS}
    outcome["training_snapshot"] = row["training_snapshot"].isoformat()
    outcome.update(
        promote=bool(decision["promote"]),
        champion_version=decision.get("champion_version"),
        reason=decision["reason"],
        model_card_path=row["model_card_path"],
        artifact_path=row["artifact_path"],
    )
    return outcome


def _new_model_version(snapshot: dt.date) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return f"churn-{snapshot:%Y%m%d}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def _first_repeat_scores(folds: Mapping[str, Any], rows: int) -> np.ndarray:
    """Out-of-fold probability of every training row from the first evaluation repeat."""
    import numpy as np

    scores = np.full(rows, np.nan)
    for idx, proba in list(zip(folds["test_indices"], folds["probabilities"]))[: folds["n_splits"]]:
        scores[np.asarray(idx)] = proba
    if np.isnan(scores).any():
        raise RuntimeError("the first evaluation repeat does not cover every training row")
    return scores


def _reference(challenger: Challenger) -> dict[str, Any]:
    """PSI reference bins: out-of-fold scores (what unseen customers get), in-sample ones beside."""
    X = challenger.data.X
    in_sample = challenger.model.predict_proba(X)[:, 1]
    out_of_fold = _first_repeat_scores(challenger.best["folds"], len(X))
    return reference.build_reference(X, out_of_fold, challenger.data.snapshot_date.isoformat(), in_sample)


def _candidate_entry(details: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "family": details["family"],
        "estimator": details["estimator"],
        "params": details["params"],
        "roc_auc_mean": details["metrics"]["roc_auc"]["mean"],
        "roc_auc_std": details["metrics"]["roc_auc"]["std"],
        "brier": details["metrics"]["brier"]["mean"],
        "search_seconds": details["search_seconds"],
        "eval_seconds": details["eval_seconds"],
    }


def _metrics(challenger: Challenger) -> dict[str, Any]:
    """The registry's metrics column: the best family's CV metrics and how they were obtained."""
    best, chosen = challenger.best, challenger.budget
    return {
        **best["metrics"],
        "cv": {
            "scheme": "repeated stratified group k-fold (duplicate customers grouped)",
            "splits": chosen.eval_splits,
            "repeats": chosen.eval_repeats,
            "seed": candidates.EVAL_SEED,
        },
        "search": {
            "budget": chosen.name,
            "n_iter": best["search"]["n_iter"],
            "folds": best["search"]["folds"],
            "best_search_roc_auc": best["search"]["best_score"],
        },
        "calibration": f"CalibratedClassifierCV(sigmoid, ensemble=False, {evaluation.CALIBRATION_FOLDS} grouped folds)",
        "permutation_importance": challenger.importance,
        "candidates": [_candidate_entry(d) for d in challenger.ranked],
    }


def _bundle(challenger: Challenger, model_version: str, versions: Mapping[str, str]) -> dict[str, Any]:
    """The artifact: the fitted model plus what scoring needs to use and monitor it."""
    best, data = challenger.best, challenger.data
    return {
        "model_version": model_version,
        "model": challenger.model,
        "family": best["family"],
        "estimator": best["estimator"],
        "params": best["params"],
        "features": list(features.FEATURES),
        "categorical": list(features.CATEGORICAL),
        "numeric": list(features.NUMERIC_INPUT),
        "threshold": best["metrics"]["threshold"],
        "threshold_rule": best["metrics"]["threshold_rule"],
        "training_snapshot": data.snapshot_date.isoformat(),
        "training_rows": len(data.frame),
        "training_fingerprint": challenger.item["fingerprint"],
        "training_medians": {c: float(data.X[c].median()) for c in features.NUMERIC_INPUT},
        "training_modes": {c: str(data.X[c].mode().iloc[0]) for c in features.CATEGORICAL},
        "reference": _reference(challenger),
        "library_versions": dict(versions),
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }


def _write_card(challenger: Challenger, bundle: Mapping[str, Any], metrics: Mapping[str, Any], sha256: str) -> Path:
    data = challenger.data
    return model_card.write_card(
        model_version=bundle["model_version"],
        frame=data.frame,
        X=data.X,
        y=data.y,
        best=challenger.best,
        details=challenger.ranked,
        decision=challenger.decision,
        metrics=metrics,
        artifact_sha256=sha256,
        library_versions=bundle["library_versions"],
        snapshot=data.snapshot_date,
    )


def _registry_record(challenger: Challenger, bundle: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    """insert_model.sql parameters, except where the artifact and the card were written."""
    best = challenger.best
    return {
        "model_version": bundle["model_version"],
        "training_snapshot": challenger.data.snapshot_date,
        "training_rows": len(challenger.data.frame),
        "algorithm": best["family"],
        "estimator": best["estimator"],
        "parameters": best["params"],
        "features": list(features.FEATURES),
        "metrics": metrics,
        "cv_roc_auc_mean": best["metrics"]["roc_auc"]["mean"],
        "cv_roc_auc_std": best["metrics"]["roc_auc"]["std"],
        "brier_score": best["metrics"]["brier"]["mean"],
        "threshold": best["metrics"]["threshold"],
        "decision": challenger.decision,
        "reference": bundle["reference"],
        "library_versions": bundle["library_versions"],
        "run_key": challenger.item["run_key"],
    }


def write_challenger(engine: sa.Engine, challenger: Challenger) -> dict[str, Any]:
    """Save the artifact, write the model card, register the row as 'challenger'; its outcome."""
    model_version = _new_model_version(challenger.data.snapshot_date)
    metrics = _metrics(challenger)
    bundle = _bundle(challenger, model_version, registry.library_versions())
    artifact_path = registry.artifact_path_for(model_version)
    sha256 = registry.save_artifact(bundle, artifact_path)
    card_path = _write_card(challenger, bundle, metrics, sha256)
    registry.register(
        engine,
        {
            **_registry_record(challenger, bundle, metrics),
            "artifact_path": str(artifact_path),
            "artifact_sha256": sha256,
            "model_card_path": str(card_path),
        },
    )
    log.info("model card of %s: %s", model_version, card_path)
    return registered_outcome(registry.get_model(engine, model_version))
