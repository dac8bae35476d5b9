"""`make bench-retrain`: the monthly retraining at BENCH_CUSTOMERS labelled customers.

Ingests one synthetic snapshot into `churn_bench_retrain` (recreated), then times
the retrain pipeline (job/pipelines/retrain.py), what churn_retrain runs, with the default budget and every
family, under the bounded-training rule (ml/README.md, "Training at scale"). Writes
bench/results/<date>-retrain-<customers>.json.

Then the model-quality figure on the real export (BENCH_REAL_EXPORT, default
../shared/data/raw when present): the full search of the strongest families on this data, in
`churn_bench_quality`, which must reach QUALITY (CV ROC-AUC over 25 folds, Brier, recall); the
test suite trains only with the reduced budget, so this is where the full search is checked.

    BENCH_CUSTOMERS=1000000 make bench-retrain
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

from bench.memory import PeakRss
from bench.run import RESULTS_DIR
from etl import synth
from etl.warehouse import db, server, settings
from job import pipelines

SNAPSHOT = dt.date(2026, 10, 1)
DEFAULT_CUSTOMERS = 100_000
QUALITY_FAMILIES = ["knn", "svc"]  # the strongest families on the real export
QUALITY = {"cv_roc_auc_mean": 0.90, "brier_score_max": 0.15, "recall_mean": 0.75, "folds": 25}


def run(customers: int, seed: int, budget: str | None) -> dict:
    from ml import candidates, features

    data_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
    synth.generate_snapshot(data_dir, customers=customers, seed=seed)
    engine = db.get_engine(server.create_database("churn_bench_retrain", replace=True))
    db.migrate(engine)
    pipelines.execute(pipelines.INGEST, engine, SNAPSHOT, data_dir=data_dir)
    with PeakRss() as peak:
        started = time.perf_counter()
        done = pipelines.execute(pipelines.RETRAIN, engine, SNAPSHOT, budget_name=budget, n_jobs=os.cpu_count() or 1)
        outcome = done["apply_promotion_gate"]
        seconds = time.perf_counter() - started
    rows = len(features.load_training_frame(engine, SNAPSHOT))
    return {
        "date": dt.date.today().isoformat(),
        "customers": customers,
        "budget": candidates.budget_for(candidates.budget(budget), rows).name,
        "training_rows": rows,
        "families": candidates.families_for(candidates.FAMILIES, rows)[0],
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak.mb, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "outcome": {k: v for k, v in outcome.items() if isinstance(v, (str, int, float, bool, type(None)))},
    }


def real_export_quality(export: Path) -> dict:
    """The full search on the real export, its figures and whether each meets QUALITY."""
    from ml import registry

    engine = db.get_engine(server.create_database("churn_bench_quality", replace=True))
    db.migrate(engine)
    pipelines.execute(pipelines.INGEST, engine, SNAPSHOT, data_dir=export)
    started = time.perf_counter()
    done = pipelines.execute(
        pipelines.RETRAIN, engine, SNAPSHOT, budget_name="full", families=QUALITY_FAMILIES, n_jobs=os.cpu_count() or 1
    )
    outcome = done["apply_promotion_gate"]
    seconds = time.perf_counter() - started
    row = registry.get_model(engine, outcome["model_version"])
    figures = {
        "algorithm": row["algorithm"],
        "cv_roc_auc_mean": round(row["cv_roc_auc_mean"], 4),
        "cv_roc_auc_std": round(row["cv_roc_auc_std"], 4),
        "brier_score": round(row["brier_score"], 4),
        "recall_mean": round(row["metrics"]["recall"]["mean"], 4),
        "folds": row["metrics"]["folds"],
    }
    meets = {
        "cv_roc_auc_mean": figures["cv_roc_auc_mean"] >= QUALITY["cv_roc_auc_mean"],
        "brier_score": figures["brier_score"] < QUALITY["brier_score_max"],
        "recall_mean": figures["recall_mean"] >= QUALITY["recall_mean"],
        "folds": figures["folds"] == QUALITY["folds"],
    }
    return {
        "export": str(export),
        "families": QUALITY_FAMILIES,
        "budget": "full",
        "seconds": round(seconds, 1),
        "figures": figures,
        "required": QUALITY,
        "meets": meets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=settings.current().BENCH_CUSTOMERS or DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", default=None, help="search budget (default: CHURN_SEARCH_BUDGET or full)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    results = run(args.customers, args.seed, args.budget)
    export = settings.current().BENCH_REAL_EXPORT
    if (export / "market_file.csv").is_file():
        results["real_export_quality"] = real_export_quality(export)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{results['date']}-retrain-{args.customers}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {path}")
    missed = [name for name, met in results.get("real_export_quality", {}).get("meets", {}).items() if not met]
    if missed:
        raise SystemExit(f"the full search on the real export misses its quality floor: {', '.join(missed)}")


if __name__ == "__main__":
    main()
