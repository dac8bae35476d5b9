"""Step 3, the register_challenger task: the run's best family becomes the challenger.

It is fitted once more on all rows, and the champion (if any) is re-evaluated on the same
evaluation folds of the same rows, so the gate compares paired fold scores. The verdict is
recorded with the challenger (`registration`); step 4 applies it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ml import candidates, evaluation, registry
from ml.training import dataset, registration

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

    from ml.training.dataset import TrainingSet

log = logging.getLogger(__name__)

PERMUTATION_REPEATS = 5


def _load_details(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Step 2's per-family JSON files behind the XCom results, all from one run."""
    details = [json.loads(Path(r["result_path"]).read_text(encoding="utf-8")) for r in results]
    if not details:
        raise ValueError("no candidate results to choose from")
    if {d["run_key"] for d in details} != {details[0]["job"]["run_key"]}:
        raise ValueError("candidate results come from different training runs")
    return details


def _ranked(details: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first: highest mean CV ROC-AUC; a tie goes to the lower Brier score."""
    return sorted(details, key=lambda d: (-d["metrics"]["roc_auc"]["mean"], d["metrics"]["brier"]["mean"]))


def _fitted(best: Mapping[str, Any], X: pd.DataFrame, y: np.ndarray) -> Any:
    """The best family's calibrated pipeline fitted on `X`, `y`."""
    return evaluation.calibrated(candidates.build_pipeline(best["family"], best["params"])).fit(X, y)


def _champion_model(engine: sa.Engine, champion: Mapping[str, Any]) -> tuple[Any, str]:
    """Unfitted copy of the champion for a paired re-evaluation, and how it was obtained.

    The verified artifact is cloned (its exact estimator); if it cannot be loaded (library
    upgrade, tampering) the pipeline is rebuilt from its registered family and parameters.
    """
    from sklearn.base import clone

    version = champion["model_version"]
    try:
        bundle, _ = registry.load_bundle(engine, version)
        return clone(bundle["model"]), "artifact"
    except registry.ModelRegistryError as error:
        log.warning("champion %s: %s — comparing with its registered parameters instead", version, error)
        pipeline = candidates.build_pipeline(champion["algorithm"], champion["parameters"])
        return evaluation.calibrated(pipeline), f"rebuilt from registered parameters ({error.__class__.__name__})"


def _fold_auc(y: np.ndarray, folds: evaluation.FoldPredictions) -> list[float]:
    from sklearn.metrics import roc_auc_score

    return [float(roc_auc_score(y[idx], p)) for idx, p in zip(folds.test_indices, folds.probabilities)]


def _champion_on_same_folds(
    engine: sa.Engine, champion: Mapping[str, Any], data: TrainingSet, chosen: candidates.Budget, n_jobs: int
) -> dict[str, Any]:
    """The champion's ROC-AUC per evaluation fold of this run's rows, and where it came from."""
    model, source = _champion_model(engine, champion)
    folds = evaluation.out_of_fold(model, data.X, data.y, dataset.eval_cv(chosen), n_jobs)
    return {
        "champion_source": source,
        "champion_fold_roc_auc": _fold_auc(data.y, folds),
        "champion_training_snapshot": champion["training_snapshot"].isoformat(),
    }


def _gate_verdict(
    engine: sa.Engine, best: Mapping[str, Any], data: TrainingSet, chosen: candidates.Budget, n_jobs: int
) -> dict[str, Any]:
    """The promotion gate's verdict on `best` (JSON), with the champion's side of the comparison."""
    champion = registry.get_champion(engine)
    comparison = _champion_on_same_folds(engine, champion, data, chosen, n_jobs) if champion is not None else {}
    decision = evaluation.decide_promotion(
        best["metrics"]["fold_roc_auc"],
        comparison.get("champion_fold_roc_auc"),
        champion_version=champion["model_version"] if champion else None,
        same_snapshot=bool(champion) and champion["training_snapshot"] == data.snapshot_date,
    )
    log.info("promotion gate: %s — %s", "promote" if decision.promote else "reject", decision.reason)
    if champion is not None:
        comparison["champion_realized"] = _champion_realized(engine, champion["model_version"])
    return {**decision.to_json(), **comparison}


def _champion_realized(engine: sa.Engine, version: str) -> list[dict[str, Any]]:
    """How the champion's scores came true (ml/outcomes), newest first: shown by the gate's log
    and the model card beside the CV comparison, which alone cannot see a changed world."""
    from ml import outcomes

    realized = outcomes.realized_for_model(engine, version)
    for row in realized[:3]:
        log.info(
            "champion %s realized ROC-AUC %s on the scores of %s (settled by %s, %s customers)%s",
            version,
            "n/a" if row["roc_auc"] is None else f"{row['roc_auc']:.3f}",
            row["score_date"],
            row["settled_by"],
            row["customers"],
            " — below its CV ROC-AUC minus spread" if row["below_cv"] else "",
        )
    if not realized:
        log.info("champion %s: no outcome has arrived yet for its scores", version)
    return realized


def _permutation_importance(
    best: Mapping[str, Any], data: TrainingSet, chosen: candidates.Budget, n_jobs: int
) -> dict[str, dict[str, float]]:
    """Drop in held-out ROC-AUC when one input column is shuffled (first repeat of the eval folds)."""
    import numpy as np
    from joblib import Parallel, delayed

    X, y = data.X, data.y
    cv = evaluation.RepeatedStratifiedGroupKFold(chosen.eval_splits, 1, candidates.EVAL_SEED)

    def one_fold(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        from sklearn.inspection import permutation_importance

        model = _fitted(best, X.iloc[train], y[train])
        result = permutation_importance(
            model, X.iloc[test], y[test], scoring="roc_auc", n_repeats=PERMUTATION_REPEATS, random_state=0
        )
        return result.importances

    per_fold = Parallel(n_jobs=n_jobs)(delayed(one_fold)(train, test) for train, test in cv.split(X, y))
    stacked = np.concatenate(per_fold, axis=1)  # features × (folds · repeats)
    return {
        column: {"mean": float(stacked[i].mean()), "std": float(stacked[i].std(ddof=1))}
        for i, column in enumerate(X.columns)
    }


def select_and_register(
    engine: sa.Engine, results: Iterable[Mapping[str, Any]], run: str | None = None
) -> dict[str, Any]:
    """Best family → final calibrated fit on all rows, paired comparison with the champion,
    artifact + model card, registry row as 'challenger' carrying the gate's verdict.

    A retry after the row was written returns that row instead of registering the run twice.
    """
    details = _load_details(results)
    item = details[0]["job"]  # the family item, under the key "job" of step 2's files
    existing = registry.get_by_run_key(engine, item["run_key"])
    if existing is not None:
        log.info("run %s already registered %s", item["run_key"], existing["model_version"])
        return registration.registered_outcome(existing)

    chosen, n_jobs = candidates.budget(item["budget"]), dataset.n_jobs_of(item)
    data = dataset.training_set(engine, dataset.snapshot_of(item), item["fingerprint"])
    ranked = _ranked(details)
    best = ranked[0]
    log.info("best family: %s (CV ROC-AUC %.4f)", best["family"], best["metrics"]["roc_auc"]["mean"])
    challenger = registration.Challenger(
        item=item,
        data=data,
        budget=chosen,
        ranked=ranked,
        model=_fitted(best, data.X, data.y),
        decision=_gate_verdict(engine, best, data, chosen, n_jobs),
        importance=_permutation_importance(best, data, chosen, n_jobs),
    )
    return registration.write_challenger(engine, challenger)
