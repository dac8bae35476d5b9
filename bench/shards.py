"""Sharded scoring as churn_score runs it: plan_shards, one process per shard side by side (what
LocalExecutor or Celery workers do with the mapped score_shard tasks), collect_shards."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
import time

import sqlalchemy as sa


def score_in_processes(engine: sa.Engine, snapshot_date: dt.date, shards: int) -> dict:
    """Seconds of the whole sharded path and the highest peak RSS of a shard process."""
    from ml import scoring

    url = engine.url.render_as_string(hide_password=False)
    started = time.perf_counter()
    items = scoring.plan_shards(engine, snapshot_date, shards)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, like a task process
    with concurrent.futures.ProcessPoolExecutor(max_workers=shards, mp_context=context) as pool:
        outcomes = list(pool.map(_score_one, [url] * shards, items))
    collected = scoring.collect_shards(engine, snapshot_date, shards)
    return {
        "rows": collected["rows"],
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": max(peak for _, peak in outcomes),
        "shards": [result for result, _ in outcomes],
    }


def _score_one(url: str, item: dict) -> tuple[dict, float]:
    from bench.memory import PeakRss
    from etl.warehouse import db
    from ml import scoring

    with PeakRss() as peak:
        result = scoring.score_shard(db.get_engine(url), item)
    return result, peak.mb
