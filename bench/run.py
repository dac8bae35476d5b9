"""`make bench`: each phase of the job as rows/s, against a naive baseline measured in the same run.

Runs in its own database (`churn_bench`, recreated) on the warehouse server so it never touches
what `make run` built. Results are printed as a table and written to .local/bench/results.json.

    python -m bench.run [--customers 200000] [--seed 1] [--baseline-rows 100000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from etl import ingest, quality, synth
from etl.warehouse import db, server, settings

SNAPSHOT = dt.date(2026, 11, 1)
TRAINING_SNAPSHOT = dt.date(2026, 10, 1)


@dataclass
class Phase:
    name: str
    rows: int
    seconds: float
    baseline: str = ""
    baseline_rows_per_s: float | None = None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def timed(function: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def bench_database() -> str:
    """A fresh `churn_bench` database on the warehouse server."""
    return server.create_database("churn_bench", replace=True)


def naive_load_rows_per_s(engine: sa.Engine, data_dir: Path, limit: int) -> float:
    """Baseline: pandas read_csv + to_sql (multi-row INSERTs) of the revenue file's first rows."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "market_money.csv", nrows=limit)
    started = time.perf_counter()
    frame.to_sql("naive_market_money", engine, schema="public", if_exists="replace", index=False, chunksize=10_000)
    return len(frame) / (time.perf_counter() - started)


def run(customers: int, seed: int, baseline_rows: int) -> list[Phase]:
    out_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
    phases: list[Phase] = []

    counts, seconds = timed(lambda: synth.generate_snapshot(out_dir, customers=customers, seed=seed))
    total_rows = sum(counts.values())
    phases.append(Phase("generate synthetic CSVs", total_rows, seconds))

    engine = db.get_engine(bench_database())
    db.ensure_schema(engine)
    _, seconds = timed(lambda: ingest.load_raw(engine, out_dir, SNAPSHOT))
    phases.append(
        Phase("load raw (COPY, checked, 1 txn)", total_rows, seconds, "pandas to_sql",
              naive_load_rows_per_s(engine, out_dir, baseline_rows))
    )
    _, seconds = timed(lambda: ingest.load_raw(engine, out_dir, SNAPSHOT))
    phases.append(Phase("reload same snapshot (idempotent)", total_rows, seconds))
    _, seconds = timed(lambda: quality.validate(engine, "raw", SNAPSHOT))
    phases.append(Phase("GX gate on raw (in database)", total_rows, seconds))
    _, seconds = timed(lambda: ingest.build_staging(engine, SNAPSHOT))
    phases.append(Phase("staging (SQL)", total_rows, seconds))
    _, seconds = timed(lambda: ingest.build_features(engine, SNAPSHOT))
    phases.append(Phase("staged features (SQL pivots)", customers, seconds))
    _, seconds = timed(lambda: ingest.validate_features(engine, SNAPSHOT))
    phases.append(Phase("GX gate on features", customers, seconds))
    _, seconds = timed(lambda: ingest.publish_features(engine, SNAPSHOT))
    phases.append(Phase("publish features (1 txn)", customers, seconds))
    phases.extend(scoring_phases(engine, customers))
    return phases


def scoring_phases(engine: sa.Engine, customers: int) -> list[Phase]:
    """Train a small LogReg champion on a separate synthetic snapshot, then score the big one:
    chunked streaming scoring vs the naive way (whole snapshot into pandas, predict, nothing else)."""
    from ml import scoring, training

    training_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-3000-seed99"
    synth.generate_snapshot(training_dir, customers=3000, seed=99)
    ingest.run_snapshot(engine, training_dir, TRAINING_SNAPSHOT)
    training.retrain(engine, TRAINING_SNAPSHOT, budget_name="reduced", families=["logreg"], n_jobs=2)

    result, seconds = timed(lambda: scoring.score_to_staged(engine, SNAPSHOT))
    rows = int(result["rows"])
    naive = naive_scoring_rows_per_s(engine)
    phases = [Phase("score (stream, explain, segment, COPY)", rows, seconds,
                    "read all + predict only", naive)]
    _, seconds = timed(lambda: scoring.validate(engine, SNAPSHOT))
    phases.append(Phase("GX gate on scores", rows, seconds))
    _, seconds = timed(lambda: scoring.publish(engine, SNAPSHOT))
    phases.append(Phase("publish scores (1 txn)", rows, seconds))
    return phases


def naive_scoring_rows_per_s(engine: sa.Engine) -> float:
    """Baseline: pandas.read_sql of the whole snapshot, then predict_proba (no explanations,
    segments or writes) — what a notebook would do; memory grows with the snapshot."""
    import pandas as pd

    from ml import features, registry

    started = time.perf_counter()
    bundle, _ = registry.load_champion(engine)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(db.read_sql("scoring", "select_scoring_input")), conn,
                            params={"score_date": SNAPSHOT})
    bundle["model"].predict_proba(features.to_model_input(frame))
    return len(frame) / (time.perf_counter() - started)


def report(phases: list[Phase], customers: int) -> str:
    lines = [f"benchmark: {customers} customers, {platform.processor() or platform.machine()}, "
             f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
             f"{'phase':40} {'rows':>10} {'seconds':>9} {'rows/s':>12}   baseline"]
    for p in phases:
        base = f"{p.baseline}: {p.baseline_rows_per_s:,.0f} rows/s ({p.rows_per_s / p.baseline_rows_per_s:.2g}x)" if p.baseline_rows_per_s else ""
        lines.append(f"{p.name:40} {p.rows:>10,} {p.seconds:>9.2f} {p.rows_per_s:>12,.0f}   {base}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    args = parser.parse_args()
    phases = run(args.customers, args.seed, args.baseline_rows)
    text = report(phases, args.customers)
    print(text)
    results = settings.local_dir() / "bench" / "results.json"
    results.write_text(json.dumps(
        {"customers": args.customers, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
         "phases": [asdict(p) | {"rows_per_s": p.rows_per_s} for p in phases]}, indent=2))
    print(f"results: {results}")


if __name__ == "__main__":
    main()
