"""The retrain job as plain functions (the churn_retrain DAG's tasks call these; so can scripts).

    jobs = prepare(...)                          # training snapshot, one small job dict per family
    results = [train_family(job) for job in jobs]  # search + honest CV of one family (mapped task)
    registered = select_and_register(results)    # best family → final fit, gate verdict, card, row
    outcome = apply_gate(registered)             # promote (retire old champion) or reject

Only small JSON crosses task boundaries (XCom); per-family details (search results, out-of-fold
probabilities) are JSON files under `<model store>/runs/<run_key>/`. Every task re-reads the
training rows from the warehouse and checks their sha256 against the one `prepare` recorded.
`retrain(...)` runs the four steps in one process.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ml import candidates, evaluation, features, registry

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

log = logging.getLogger(__name__)

PERMUTATION_REPEATS = 5


def _engine(engine: sa.Engine | None) -> sa.Engine:
    from etl.warehouse import db

    return engine if engine is not None else db.get_engine()


def _date(value: dt.date | str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def default_n_jobs() -> int:
    """Worker processes per task: env CHURN_N_JOBS, default 1 (mapped tasks already run side by
    side on the 2 cores; set 2 when families run one after another, e.g. under dag.test())."""
    return max(1, int(os.environ.get("CHURN_N_JOBS", "1")))


def resolve_snapshot(engine: sa.Engine, snapshot_date: dt.date | str | None = None, as_of: dt.date | str | None = None) -> dt.date:
    """`snapshot_date` when given, else the latest labelled snapshot on or before `as_of` (today)."""
    chosen = _date(snapshot_date)
    if chosen is not None:
        return chosen
    as_of_date = _date(as_of) or dt.date.today()
    found = features.latest_labelled_snapshot(engine, as_of_date)
    if found is None:
        raise LookupError(f"features.customer_features has no labelled active customers on or before {as_of_date}")
    return found


def _training_data(engine: sa.Engine, job: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    frame = features.load_training_frame(engine, _date(job["snapshot_date"]))
    if features.fingerprint(frame) != job["fingerprint"]:
        raise RuntimeError(
            f"training rows of {job['snapshot_date']} changed since this run started (features were "
            "rebuilt?): rerun churn_retrain so every candidate sees the same data"
        )
    return frame, features.to_model_input(frame), features.target(frame)


def eval_cv(chosen: candidates.Budget) -> evaluation.RepeatedStratifiedGroupKFold:
    """The evaluation folds: fixed seeds, so champion and challenger meet on the same folds."""
    return evaluation.RepeatedStratifiedGroupKFold(chosen.eval_splits, chosen.eval_repeats, candidates.EVAL_SEED)


def search_cv(chosen: candidates.Budget) -> evaluation.RepeatedStratifiedGroupKFold:
    return evaluation.RepeatedStratifiedGroupKFold(chosen.search_splits, chosen.search_repeats, candidates.SEARCH_SEED)


# --- step 1 -----------------------------------------------------------------------------------

def prepare(
    snapshot_date: dt.date | str | None = None,
    as_of: dt.date | str | None = None,
    budget_name: str | None = None,
    families: Sequence[str] | None = None,
    n_jobs: int | None = None,
    engine: sa.Engine | None = None,
) -> list[dict[str, Any]]:
    """Pick the training snapshot and return one JSON-able job per candidate family."""
    from etl.warehouse import settings

    from etl.warehouse import db

    engine = _engine(engine)
    db.ensure_schema(engine)  # idempotent; creates ml.model_registry on a warehouse that predates it
    chosen = candidates.budget(budget_name)
    names = list(families or candidates.FAMILIES)
    for name in names:
        candidates.family(name)  # fail early on a typo
    snapshot = resolve_snapshot(engine, snapshot_date, as_of)
    frame = features.load_training_frame(engine, snapshot)
    positives = int(frame[features.TARGET].sum())
    negatives = len(frame) - positives
    if min(positives, negatives) < 2 * max(chosen.eval_splits, chosen.search_splits):
        raise ValueError(f"snapshot {snapshot} has {positives} positive / {negatives} negative rows: too few to cross-validate")
    started = dt.datetime.now(dt.timezone.utc)
    run_key = f"{snapshot:%Y%m%d}-{started:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    run_dir = settings.model_store_dir() / "runs" / run_key
    run_dir.mkdir(parents=True, exist_ok=True)
    common = {
        "run_key": run_key,
        "run_dir": str(run_dir),
        "snapshot_date": snapshot.isoformat(),
        "rows": len(frame),
        "positives": positives,
        "fingerprint": features.fingerprint(frame),
        "budget": chosen.name,
        "n_jobs": int(n_jobs or default_n_jobs()),
        "started_at": started.isoformat(),
    }
    log.info("retrain %s on snapshot %s: %d rows (%d «Снизилась»), budget %s, families %s",
             run_key, snapshot, len(frame), positives, chosen.name, names)
    return [{**common, "family": name} for name in names]


# --- step 2 -----------------------------------------------------------------------------------

def _search_score(name: str, params: Mapping[str, Any], X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import get_scorer

    pipeline = candidates.build_pipeline(name, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X.iloc[train], y[train])
    return float(get_scorer("roc_auc")(pipeline, X.iloc[test], y[test]))


def search_family(name: str, X: pd.DataFrame, y: np.ndarray, chosen: candidates.Budget, n_jobs: int = 1) -> dict[str, Any]:
    """Random search over the family's space, scored by mean ROC-AUC on the search folds."""
    import numpy as np
    from joblib import Parallel, delayed

    draws = candidates.sample_params(name, candidates.n_iter(name, chosen), seed=candidates.SEARCH_SEED + candidates.FAMILIES.index(name))
    splits = list(search_cv(chosen).split(X, y))
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_search_score)(name, params, X, y, train, test) for params in draws for train, test in splits
    )
    table = np.asarray(scores).reshape(len(draws), len(splits))
    ranked = sorted(
        ({"params": params, "mean": float(row.mean()), "std": float(row.std(ddof=1)) if len(row) > 1 else 0.0}
         for params, row in zip(draws, table)),
        key=lambda c: -c["mean"],
    )
    return {"best_params": ranked[0]["params"], "best_score": ranked[0]["mean"], "n_iter": len(draws),
            "folds": len(splits), "candidates": ranked}


def train_family(job: Mapping[str, Any], engine: sa.Engine | None = None) -> dict[str, Any]:
    """Search one family, then cross-validate its best (calibrated) pipeline on the eval folds."""
    engine = _engine(engine)
    name = job["family"]
    chosen = candidates.budget(job["budget"])
    n_jobs = int(job.get("n_jobs") or 1)
    _, X, y = _training_data(engine, job)

    from threadpoolctl import threadpool_limits

    # BLAS/OpenMP threads: no more than this task's share of the cores (mapped tasks run side by side).
    with threadpool_limits(limits=n_jobs):
        started = time.perf_counter()
        search = search_family(name, X, y, chosen, n_jobs)
        searched = time.perf_counter()
        model = evaluation.calibrated(candidates.build_pipeline(name, search["best_params"]))
        folds = evaluation.out_of_fold(model, X, y, eval_cv(chosen), n_jobs)
        metrics = evaluation.summarize(y, folds)
        finished = time.perf_counter()

    spec = candidates.family(name)
    summary = {
        "run_key": job["run_key"],
        "family": name,
        "estimator": spec.estimator,
        "params": search["best_params"],
        "roc_auc_mean": metrics["roc_auc"]["mean"],
        "roc_auc_std": metrics["roc_auc"]["std"],
        "brier": metrics["brier"]["mean"],
        "threshold": metrics["threshold"],
        "n_iter": search["n_iter"],
        "search_seconds": round(searched - started, 2),
        "eval_seconds": round(finished - searched, 2),
        "result_path": str(Path(job["run_dir"]) / f"{name}.json"),
    }
    details = {**summary, "job": dict(job), "search": search, "metrics": metrics, "folds": folds.to_json()}
    Path(summary["result_path"]).write_text(json.dumps(details, ensure_ascii=False), encoding="utf-8")
    log.info("%s: CV ROC-AUC %.4f ± %.4f, Brier %.4f (search %d draws %.1fs, eval %.1fs) params %s",
             name, summary["roc_auc_mean"], summary["roc_auc_std"], summary["brier"], search["n_iter"],
             summary["search_seconds"], summary["eval_seconds"], search["best_params"])
    return summary


# --- step 3 -----------------------------------------------------------------------------------

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


def _permutation_importance(name: str, params: Mapping[str, Any], X: pd.DataFrame, y: np.ndarray, chosen: candidates.Budget, n_jobs: int) -> dict[str, dict[str, float]]:
    """Drop in held-out ROC-AUC when one input column is shuffled (first repeat of the eval folds)."""
    import numpy as np
    from joblib import Parallel, delayed

    cv = evaluation.RepeatedStratifiedGroupKFold(chosen.eval_splits, 1, candidates.EVAL_SEED)

    def one_fold(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        from sklearn.inspection import permutation_importance

        model = evaluation.calibrated(candidates.build_pipeline(name, params)).fit(X.iloc[train], y[train])
        result = permutation_importance(model, X.iloc[test], y[test], scoring="roc_auc",
                                        n_repeats=PERMUTATION_REPEATS, random_state=0)
        return result.importances

    per_fold = Parallel(n_jobs=n_jobs)(delayed(one_fold)(train, test) for train, test in cv.split(X, y))
    stacked = np.concatenate(per_fold, axis=1)  # features × (folds · repeats)
    return {column: {"mean": float(stacked[i].mean()), "std": float(stacked[i].std(ddof=1))}
            for i, column in enumerate(X.columns)}


def _first_repeat_scores(folds: Mapping[str, Any], rows: int) -> np.ndarray:
    """Out-of-fold probability of every training row from the first evaluation repeat."""
    import numpy as np

    scores = np.full(rows, np.nan)
    for idx, proba in list(zip(folds["test_indices"], folds["probabilities"]))[:folds["n_splits"]]:
        scores[np.asarray(idx)] = proba
    if np.isnan(scores).any():
        raise RuntimeError("the first evaluation repeat does not cover every training row")
    return scores


def _new_model_version(snapshot: dt.date) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return f"churn-{snapshot:%Y%m%d}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def _registered_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    decision = row["decision"]
    return {
        "model_version": row["model_version"],
        "status": row["status"],
        "algorithm": row["algorithm"],
        "training_snapshot": row["training_snapshot"].isoformat(),
        "cv_roc_auc_mean": row["cv_roc_auc_mean"],
        "cv_roc_auc_std": row["cv_roc_auc_std"],
        "brier_score": row["brier_score"],
        "threshold": row["threshold"],
        "promote": bool(decision["promote"]),
        "champion_version": decision.get("champion_version"),
        "reason": decision["reason"],
        "model_card_path": row["model_card_path"],
        "artifact_path": row["artifact_path"],
    }


def select_and_register(results: Iterable[Mapping[str, Any]], engine: sa.Engine | None = None) -> dict[str, Any]:
    """Best family → final calibrated fit on all rows, paired comparison with the champion,
    artifact + model card, registry row as 'challenger' carrying the gate's verdict."""
    from ml import model_card, reference

    engine = _engine(engine)
    results = list(results)
    if not results:
        raise ValueError("no candidate results to choose from")
    details = [json.loads(Path(r["result_path"]).read_text(encoding="utf-8")) for r in results]
    job = details[0]["job"]
    if {d["run_key"] for d in details} != {job["run_key"]}:
        raise ValueError("candidate results come from different training runs")
    existing = registry.get_by_run_key(engine, job["run_key"])
    if existing is not None:  # a retry after the row was written: do not register twice
        log.info("run %s already registered %s", job["run_key"], existing["model_version"])
        return _registered_summary(existing)

    chosen = candidates.budget(job["budget"])
    n_jobs = int(job.get("n_jobs") or 1)
    snapshot = _date(job["snapshot_date"])
    frame, X, y = _training_data(engine, job)
    details.sort(key=lambda d: (-d["metrics"]["roc_auc"]["mean"], d["metrics"]["brier"]["mean"]))
    best = details[0]
    log.info("best family: %s (CV ROC-AUC %.4f)", best["family"], best["metrics"]["roc_auc"]["mean"])

    model = evaluation.calibrated(candidates.build_pipeline(best["family"], best["params"])).fit(X, y)
    scores = model.predict_proba(X)[:, 1]

    champion = registry.get_champion(engine)
    champion_fold_auc = None
    comparison: dict[str, Any] = {}
    if champion is not None:
        champion_model, source = _champion_model(engine, champion)
        champion_folds = evaluation.out_of_fold(champion_model, X, y, eval_cv(chosen), n_jobs)
        champion_fold_auc = _fold_auc(y, champion_folds)
        comparison = {"champion_source": source, "champion_fold_roc_auc": champion_fold_auc,
                      "champion_training_snapshot": champion["training_snapshot"].isoformat()}
    decision = evaluation.decide_promotion(
        best["metrics"]["fold_roc_auc"],
        champion_fold_auc,
        champion_version=champion["model_version"] if champion else None,
        same_snapshot=bool(champion) and champion["training_snapshot"] == snapshot,
    )
    decision_json = {**decision.to_json(), **comparison}
    log.info("promotion gate: %s — %s", "promote" if decision.promote else "reject", decision.reason)

    importance = _permutation_importance(best["family"], best["params"], X, y, chosen, n_jobs)
    model_version = _new_model_version(snapshot)
    versions = registry.library_versions()
    ref = reference.build_reference(X, _first_repeat_scores(best["folds"], len(X)), snapshot.isoformat(), scores)
    metrics = {
        **best["metrics"],
        "cv": {"scheme": "repeated stratified group k-fold (duplicate customers grouped)",
               "splits": chosen.eval_splits, "repeats": chosen.eval_repeats, "seed": candidates.EVAL_SEED},
        "search": {"budget": chosen.name, "n_iter": best["search"]["n_iter"], "folds": best["search"]["folds"],
                   "best_search_roc_auc": best["search"]["best_score"]},
        "calibration": f"CalibratedClassifierCV(sigmoid, ensemble=False, {evaluation.CALIBRATION_FOLDS} grouped folds)",
        "permutation_importance": importance,
        "candidates": [
            {"family": d["family"], "estimator": d["estimator"], "params": d["params"],
             "roc_auc_mean": d["metrics"]["roc_auc"]["mean"], "roc_auc_std": d["metrics"]["roc_auc"]["std"],
             "brier": d["metrics"]["brier"]["mean"], "search_seconds": d["search_seconds"],
             "eval_seconds": d["eval_seconds"]}
            for d in details
        ],
    }
    bundle = {
        "model_version": model_version,
        "model": model,
        "family": best["family"],
        "estimator": best["estimator"],
        "params": best["params"],
        "features": list(features.FEATURES),
        "categorical": list(features.CATEGORICAL),
        "numeric": list(features.NUMERIC_INPUT),
        "threshold": best["metrics"]["threshold"],
        "threshold_rule": best["metrics"]["threshold_rule"],
        "training_snapshot": snapshot.isoformat(),
        "training_rows": len(frame),
        "training_fingerprint": job["fingerprint"],
        "training_medians": {c: float(X[c].median()) for c in features.NUMERIC_INPUT},
        "training_modes": {c: str(X[c].mode().iloc[0]) for c in features.CATEGORICAL},
        "reference": ref,
        "library_versions": versions,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    artifact_path = registry.artifact_path_for(model_version)
    sha256 = registry.save_artifact(bundle, artifact_path)

    card_path = model_card.write_card(
        model_version=model_version,
        frame=frame,
        X=X,
        y=y,
        best=best,
        details=details,
        decision=decision_json,
        metrics=metrics,
        artifact_sha256=sha256,
        library_versions=versions,
        snapshot=snapshot,
    )
    registry.register(engine, {
        "model_version": model_version,
        "training_snapshot": snapshot,
        "training_rows": len(frame),
        "algorithm": best["family"],
        "estimator": best["estimator"],
        "parameters": best["params"],
        "features": list(features.FEATURES),
        "metrics": metrics,
        "cv_roc_auc_mean": best["metrics"]["roc_auc"]["mean"],
        "cv_roc_auc_std": best["metrics"]["roc_auc"]["std"],
        "brier_score": best["metrics"]["brier"]["mean"],
        "threshold": best["metrics"]["threshold"],
        "decision": decision_json,
        "reference": ref,
        "artifact_path": str(artifact_path),
        "artifact_sha256": sha256,
        "library_versions": versions,
        "model_card_path": str(card_path),
        "run_key": job["run_key"],
    })
    log.info("model card of %s: %s", model_version, card_path)
    return _registered_summary(registry.get_model(engine, model_version))


# --- step 4 -----------------------------------------------------------------------------------

def apply_gate(registered: Mapping[str, Any], engine: sa.Engine | None = None) -> dict[str, Any]:
    """Apply the registered verdict: promote (old champion retired, one transaction) or reject."""
    engine = _engine(engine)
    version = registered["model_version"]
    row = registry.get_model(engine, version)
    if row is None:
        raise LookupError(f"no model {version} in ml.model_registry")
    if row["status"] == "challenger":
        decision = row["decision"]
        current = registry.get_champion(engine)
        current_version = current["model_version"] if current else None
        if decision["promote"] and current_version != decision.get("champion_version"):
            # Another run changed the champion after this one compared: the verdict is stale.
            log.warning("%s was compared with champion %s but the champion is now %s: rejecting; "
                        "the next retrain compares again", version, decision.get("champion_version"), current_version)
            registry.reject(engine, version)
        elif decision["promote"]:
            retired = registry.promote(engine, version, decision.get("champion_version"))
            log.info("%s is the champion now (retired: %s)", version, retired or "none")
        else:
            registry.reject(engine, version)
            log.info("%s rejected (%s); champion stays %s", version, decision["reason"], current_version)
        row = registry.get_model(engine, version)
    outcome = _registered_summary(row)
    outcome["champion"] = registry.champion_summary(engine)
    log.info("model card of %s: %s", version, outcome["model_card_path"])
    return outcome


# --- whole job & helpers for `make run` -----------------------------------------------------

def retrain(
    snapshot_date: dt.date | str | None = None,
    as_of: dt.date | str | None = None,
    budget_name: str | None = None,
    families: Sequence[str] | None = None,
    n_jobs: int | None = None,
    engine: sa.Engine | None = None,
) -> dict[str, Any]:
    """prepare → train every family → select_and_register → apply_gate, in this process."""
    engine = _engine(engine)
    jobs = prepare(snapshot_date, as_of, budget_name, families, n_jobs, engine)
    results = [train_family(job, engine) for job in jobs]
    return apply_gate(select_and_register(results, engine), engine)


def has_champion(engine: sa.Engine | None = None) -> bool:
    return registry.get_champion(_engine(engine)) is not None


def training_needed(engine: sa.Engine, snapshot_date: dt.date) -> str | None:
    """Why `make run` should retrain before scoring `snapshot_date`, or None.

    No champion → train one. A labelled snapshot whose training rows differ from the rows the
    champion was trained on (its bundle keeps their fingerprint) → retrain; the promotion gate
    still decides whether the challenger replaces the champion. Unlabelled snapshot → nothing to
    train on.
    """
    champion = registry.get_champion(engine)
    if champion is None:
        return "no champion model yet"
    try:
        frame = features.load_training_frame(engine, snapshot_date)
    except LookupError:
        return None
    bundle, _ = registry.load_bundle(engine, champion["model_version"])
    if bundle.get("training_fingerprint") != features.fingerprint(frame):
        return f"champion {champion['model_version']} was trained on other rows than snapshot {snapshot_date}"
    return None
