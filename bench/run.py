"""`make bench`: every phase of the nightly path at BENCH_CUSTOMERS customers, with its baselines.

Runs the same functions the DAG tasks call, in their own database `churn_bench` (recreated, so it
never touches what `make run` built), prints phase | rows | seconds | rows/s | peak RSS and writes
bench/results/<date>-<customers>.json so numbers can be compared over time.

    BENCH_CUSTOMERS=1000000 make bench        # or: python -m bench.run --customers 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from bench import baselines, mart, shards
from bench.memory import PeakRss
from etl import ingest, synth
from etl.warehouse import db, server, settings
from job import pipelines

SNAPSHOT = dt.date(2026, 11, 1)
TRAINING_SNAPSHOT = dt.date(2026, 10, 1)
DEFAULT_CUSTOMERS = 200_000
RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The phases a night runs (the sum is the nightly path; generation and the reload are extra).
NIGHTLY = (
    "load raw",
    "gate raw",
    "staging",
    "features",
    "gate features",
    "publish features",
    "score, 2 shards",
    "target offers",
    "gate scores",
    "publish scores",
)


@dataclass
class Phase:
    phase: str
    rows: int
    seconds: float
    peak_rss_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


class Recorder:
    """Times each phase and samples its peak RSS."""

    def __init__(self) -> None:
        self.phases: list[Phase] = []

    def __call__(self, name: str, rows: int | Callable[[object], int], step: Callable[[], object]) -> object:
        with PeakRss() as peak:
            started = time.perf_counter()
            result = step()
            seconds = time.perf_counter() - started
        count = rows(result) if callable(rows) else rows
        self.phases.append(Phase(name, count, round(seconds, 3), round(peak.mb, 1)))
        print(f"  {name}: {seconds:.2f} s", flush=True)
        return result


def run(customers: int, seed: int, baseline_rows: int) -> dict:
    from ml import scoring
    from ml.uplift import steps as uplift

    out_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
    record = Recorder()
    counts = record(
        "generate synthetic CSVs",
        lambda c: sum(c.values()),
        lambda: synth.generate_snapshot(out_dir, customers=customers, seed=seed),
    )
    csv_rows = sum(counts.values())
    engine = db.get_engine(server.create_database("churn_bench", replace=True))
    db.migrate(engine)
    train_champion(engine)

    plain = baselines.plain_copy(engine, out_dir)
    record("load raw", csv_rows, lambda: ingest.load_raw(engine, SNAPSHOT, data_dir=out_dir))
    to_sql = baselines.pandas_to_sql(engine, out_dir, baseline_rows)
    record("reload same snapshot (idempotent)", csv_rows, lambda: ingest.load_raw(engine, SNAPSHOT, data_dir=out_dir))
    record("gate raw", csv_rows, lambda: ingest.validate_raw(engine, SNAPSHOT))
    record("staging", csv_rows, lambda: ingest.build_staging(engine, SNAPSHOT))
    record("features", customers, lambda: ingest.build_features(engine, SNAPSHOT))
    record("gate features", customers, lambda: ingest.validate_features(engine, SNAPSHOT))
    record("publish features", customers, lambda: ingest.publish_features(engine, SNAPSHOT))
    scored = record(
        "score",
        lambda r: int(r["rows"]),
        lambda: pipelines.execute(pipelines.SCORE, engine, SNAPSHOT, last="collect_shards", shards=1)["collect_shards"],
    )
    for count in (1, 2):  # as churn_score runs it: one process per shard (its peak RSS is the shard's)
        sharded = shards.score_in_processes(engine, SNAPSHOT, count)
        record.phases.append(
            Phase(
                f"score, {count} shard{'s' * (count > 1)}",
                sharded["rows"],
                round(sharded["seconds"], 3),
                round(sharded["peak_rss_mb"], 1),
            )
        )
    record("target offers", int(scored["rows"]), lambda: uplift.target_offers(engine, SNAPSHOT))
    record("gate scores", int(scored["rows"]), lambda: scoring.validate(engine, SNAPSHOT))
    record("publish scores", int(scored["rows"]), lambda: scoring.publish(engine, SNAPSHOT))
    naive_scoring = baselines.read_all_predict_proba(engine, SNAPSHOT)
    record(
        f"history: {mart.HISTORY_DATES - 1} older score dates",  # phase name as in bench/results
        lambda n: n,
        lambda: mart.build_history(engine, SNAPSHOT),
    )
    newer = mart.stage_newer_date(engine, SNAPSHOT)
    record(
        f"publish scores over {mart.HISTORY_DATES} dates", customers, lambda: mart.publish_staged_date(engine, newer)
    )
    results = results_of(customers, record.phases, plain, to_sql, naive_scoring)
    results["bi_queries"] = {"score_dates": mart.HISTORY_DATES + 1, **mart.time_queries(engine)}
    return results


def train_champion(engine: sa.Engine) -> None:
    """A small LogReg champion from a separate 3000-customer snapshot (not timed); loading it
    once here also imports scikit-learn, so neither the scorer nor its baseline pays for that."""
    from ml import registry

    training_dir = settings.local_dir() / "bench" / f"synthetic-v{synth.GENERATOR_VERSION}-3000-seed99"
    synth.generate_snapshot(training_dir, customers=3000, seed=99)
    pipelines.execute(pipelines.INGEST, engine, TRAINING_SNAPSHOT, data_dir=training_dir)
    pipelines.execute(
        pipelines.RETRAIN, engine, TRAINING_SNAPSHOT, budget_name="reduced", families=["logreg"], n_jobs=2
    )
    registry.load_champion(engine)


def results_of(customers: int, phases: list[Phase], plain: dict, to_sql: dict, naive_scoring: dict) -> dict:
    by_name = {p.phase: p for p in phases}
    load, score = by_name["load raw"], by_name["score"]
    one, two = by_name["score, 1 shard"], by_name["score, 2 shards"]
    nightly = sum(by_name[name].seconds for name in NIGHTLY)
    gates = sum(by_name[name].seconds for name in NIGHTLY if name.startswith("gate"))
    return {
        "date": dt.date.today().isoformat(),
        "customers": customers,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "phases": [asdict(p) for p in phases],
        "nightly_seconds": round(nightly, 2),
        "gates_share": round(gates / nightly, 3),
        "baselines": {"plain_copy": plain, "pandas_to_sql": to_sql, "read_all_predict_proba": naive_scoring},
        "ratios": {
            "load_vs_pandas_to_sql": round(load.rows_per_s / to_sql["rows_per_s"], 2),
            "load_vs_plain_copy": round(load.rows_per_s / plain["rows_per_s"], 2),
            "score_vs_read_all_predict_proba": round(score.rows_per_s / naive_scoring["rows_per_s"], 2),
            "two_shards_vs_one": round(one.seconds / two.seconds, 2),
        },
    }


def report(results: dict) -> str:
    lines = [
        f"benchmark: {results['customers']:,} customers, {results['machine']}, load average {results['load_average']}",
        f"{'phase':36} {'rows':>10} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}",
    ]
    for p in results["phases"]:
        rate = p["rows"] / p["seconds"] if p["seconds"] else float("inf")
        lines.append(f"{p['phase']:36} {p['rows']:>10,} {p['seconds']:>9.2f} {rate:>12,.0f} {p['peak_rss_mb']:>13.0f}")
    lines.append(
        f"nightly path (load … publish scores): {results['nightly_seconds']:.1f} s, "
        f"gates {results['gates_share']:.0%} of it"
    )
    for name, base in results["baselines"].items():
        lines.append(
            f"baseline {name}: {base['rows']:,} rows in {base['seconds']:.2f} s ({base['rows_per_s']:,} rows/s)"
        )
    lines.append("ratios (same run): " + ", ".join(f"{k} {v}x" for k, v in results["ratios"].items()))
    bi = dict(results.get("bi_queries") or {})
    dates = bi.pop("score_dates", None)
    for name, timing in bi.items():
        lines.append(
            f"BI over {dates} snapshot dates, {name}: first {timing['first_seconds']:.3f} s, "
            f"warm {timing['warm_median_seconds']:.3f} s ({timing['rows']} rows)"
            + ("" if "reads_the_index" not in timing else f", index {timing['reads_the_index']}")
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=settings.current().BENCH_CUSTOMERS or DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-rows", type=int, default=100_000, help="rows of the pandas to_sql baseline")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    results = run(args.customers, args.seed, args.baseline_rows)
    print(report(results))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{results['date']}-{args.customers}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
