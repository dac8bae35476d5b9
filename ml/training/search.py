"""Step 2, one mapped task per family: random search, then an honest CV of the best draw.

The task returns a small result for XCom; the details the next step needs (search table,
out-of-fold probabilities) go to `<run_dir>/<family>.json`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ml import candidates, evaluation
from ml.training import dataset

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import sqlalchemy as sa

log = logging.getLogger(__name__)


def _search_score(
    name: str, params: Mapping[str, Any], X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> float:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import get_scorer

    pipeline = candidates.build_pipeline(name, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X.iloc[train], y[train])
    return float(get_scorer("roc_auc")(pipeline, X.iloc[test], y[test]))


def search_family(
    name: str, X: pd.DataFrame, y: np.ndarray, chosen: candidates.Budget, n_jobs: int = 1
) -> dict[str, Any]:
    """Random search over the family's space, scored by mean ROC-AUC on the search folds."""
    import numpy as np
    from joblib import Parallel, delayed

    draws = candidates.sample_params(
        name, candidates.n_iter(name, chosen), seed=candidates.SEARCH_SEED + candidates.FAMILIES.index(name)
    )
    splits = list(dataset.search_cv(chosen).split(X, y))
    scores = Parallel(n_jobs=n_jobs)(
        delayed(_search_score)(name, params, X, y, train, test) for params in draws for train, test in splits
    )
    table = np.asarray(scores).reshape(len(draws), len(splits))
    ranked = sorted(
        (
            {"params": params, "mean": float(row.mean()), "std": float(row.std(ddof=1)) if len(row) > 1 else 0.0}
            for params, row in zip(draws, table)
        ),
        key=lambda c: -c["mean"],
    )
    return {
        "best_params": ranked[0]["params"],
        "best_score": ranked[0]["mean"],
        "n_iter": len(draws),
        "folds": len(splits),
        "candidates": ranked,
    }


def train_family(engine: sa.Engine, item: Mapping[str, Any], run: str | None = None) -> dict[str, Any]:
    """Search one family, then cross-validate its best (calibrated) pipeline on the eval folds."""
    from threadpoolctl import threadpool_limits

    name = item["family"]
    chosen = candidates.budget(item["budget"])
    n_jobs = dataset.n_jobs_of(item)
    data = dataset.training_set(engine, dataset.snapshot_of(item), item["fingerprint"])

    # BLAS/OpenMP threads: no more than this task's share of the cores (mapped tasks run side by side).
    with threadpool_limits(limits=n_jobs):
        started = time.perf_counter()
        search = search_family(name, data.X, data.y, chosen, n_jobs)
        searched = time.perf_counter()
        model = evaluation.calibrated(candidates.build_pipeline(name, search["best_params"]))
        folds = evaluation.out_of_fold(model, data.X, data.y, dataset.eval_cv(chosen), n_jobs)
        metrics = evaluation.cv_metrics(data.y, folds)
        finished = time.perf_counter()

    result = {
        "run_key": item["run_key"],
        "family": name,
        "estimator": candidates.family(name).estimator,
        "params": search["best_params"],
        "roc_auc_mean": metrics["roc_auc"]["mean"],
        "roc_auc_std": metrics["roc_auc"]["std"],
        "brier": metrics["brier"]["mean"],
        "threshold": metrics["threshold"],
        "n_iter": search["n_iter"],
        "search_seconds": round(searched - started, 2),
        "eval_seconds": round(finished - searched, 2),
        "result_path": str(Path(item["run_dir"]) / f"{name}.json"),
    }
    # the item stays under the key "job": selection reads it there, also from files of a run in flight
    details = {**result, "job": dict(item), "search": search, "metrics": metrics, "folds": folds.to_json()}
    Path(result["result_path"]).write_text(json.dumps(details, ensure_ascii=False), encoding="utf-8")
    log.info(
        "%s: CV ROC-AUC %.4f ± %.4f, Brier %.4f (search %d draws %.1fs, eval %.1fs) params %s",
        name,
        result["roc_auc_mean"],
        result["roc_auc_std"],
        result["brier"],
        search["n_iter"],
        result["search_seconds"],
        result["eval_seconds"],
        search["best_params"],
    )
    return result
