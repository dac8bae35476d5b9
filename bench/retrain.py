"""`make bench-retrain`: the monthly retraining at BENCH_CUSTOMERS labelled customers.

Ingests one synthetic snapshot into `churn_bench_retrain` (recreated), then times
`ml.training.retrain` — what churn_retrain's tasks run — with the default budget and every
family, under the bounded-training rule (ml/README.md, "Training at scale"). Writes
bench/results/<date>-retrain-<customers>.json.

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
from etl import ingest, synth
from etl.warehouse import db, server, settings

SNAPSHOT = dt.date(2026, 10, 1)
DEFAULT_CUSTOMERS = 100_000


def run(customers: int, seed: int, budget: str | None) -> dict:
    from ml import candidates, features, training

    data_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
    synth.generate_snapshot(data_dir, customers=customers, seed=seed)
    engine = db.get_engine(server.create_database("churn_bench_retrain", replace=True))
    ingest.run_snapshot(engine, data_dir, SNAPSHOT)
    with PeakRss() as peak:
        started = time.perf_counter()
        outcome = training.retrain(engine, SNAPSHOT, budget_name=budget, n_jobs=os.cpu_count() or 1)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=int(os.environ.get("BENCH_CUSTOMERS", DEFAULT_CUSTOMERS)))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", default=None, help="search budget (default: CHURN_SEARCH_BUDGET or full)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    results = run(args.customers, args.seed, args.budget)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{results['date']}-retrain-{args.customers}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
