"""What BI waits for once the scores have a history: `mart.churn_scores_latest` at N customers ×
HISTORY_DATES scored snapshot dates.

The history is the benchmark's published date copied to older dates (2 % of the customers left
out of each, so some customers are absent from the newest date), swapped in the way publish does
(ml.scoring.steps.swap_in_staged_partition). Then one newer date is staged and published over
it (the publish timed alone), and the BI queries run: first (cold plan cache) and warm (median
of 5).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from typing import Callable

import sqlalchemy as sa

HISTORY_DATES = 30
TOP_BY_PROFIT_AT_RISK = (
    "SELECT customer_id, segment_title, offer_code, churn_probability, profit, profit_at_risk, top_factors "
    "FROM mart.churn_scores_latest ORDER BY profit_at_risk DESC LIMIT 100"
)
QUERIES = {
    "top 100 by profit_at_risk": TOP_BY_PROFIT_AT_RISK,
    # a customer missing from the newest date: found in the second branch, by key
    "one customer": "SELECT * FROM mart.churn_scores_latest "
    "WHERE customer_id = (SELECT max(customer_id) FROM scoring.absent_from_newest)",
    "absent from the newest date": "SELECT count(*) FROM mart.churn_scores_latest WHERE NOT in_newest_snapshot",
    "segment summary": "SELECT * FROM mart.segment_summary",
}
_COLUMNS = (
    "customer_id, model_version, churn_probability, risk_band, segment, offer, top_factors, "
    "profit, rules_version, scored_at, offer_group"
)


def _stage_copy(conn: sa.Connection, snapshot_date: dt.date, source: dt.date, left_out: int, swap: bool = True) -> None:
    """Staged scores of `snapshot_date`: `source`'s published rows without the customers whose id mod 50
    is `left_out` (2 %), then swapped in as publish does."""
    from ml.scoring import steps

    conn.execute(sa.text("SELECT ops.replace_partition('scoring.churn_scores_staged', :d)"), {"d": snapshot_date})
    conn.execute(
        sa.text(
            f"INSERT INTO scoring.churn_scores_staged (score_date, {_COLUMNS}) SELECT :d, {_COLUMNS} "
            "FROM scoring.churn_scores WHERE score_date = :s AND customer_id % 50 <> :k"
        ),
        {"d": snapshot_date, "s": source, "k": left_out},
    )
    if swap:
        steps.swap_in_staged_partition(conn, snapshot_date)


def build_history(engine: sa.Engine, newest: dt.date, dates: int = HISTORY_DATES) -> int:
    """dates − 1 older dates before `newest`, one per day; returns the published rows."""
    for back in range(dates - 1, 0, -1):
        with engine.begin() as conn:
            _stage_copy(conn, newest - dt.timedelta(days=back), newest, left_out=back % 50)
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM scoring.churn_scores")).scalar_one())


def stage_newer_date(engine: sa.Engine, newest: dt.date) -> dt.date:
    """The next snapshot date's staged scores (not timed: scoring writes them)."""
    snapshot_date = newest + dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE scoring.absent_from_newest"))
        _stage_copy(conn, snapshot_date, newest, left_out=7, swap=False)
    return snapshot_date


def publish_staged_date(engine: sa.Engine, snapshot_date: dt.date) -> None:
    """What publish does to the partitions over that history: the swap, the absent-customer
    upkeep and the newest-partition view (the batch bookkeeping around it is the same as ever)."""
    from ml.scoring import steps

    with engine.begin() as conn:
        steps.swap_in_staged_partition(conn, snapshot_date)


def time_queries(engine: sa.Engine, timer: Callable[[], float] = time.perf_counter) -> dict[str, dict]:
    """Each BI query: seconds of the first run and the median of 5 more, rows, and whether the
    top-N query read the profit_at_risk index (its plan)."""
    results: dict[str, dict] = {}
    with engine.connect() as conn:
        for name, query in QUERIES.items():
            runs = []
            for _ in range(6):
                started = timer()
                rows = conn.execute(sa.text(query)).all()
                runs.append(timer() - started)
            results[name] = {
                "first_seconds": round(runs[0], 4),
                "warm_median_seconds": round(statistics.median(runs[1:]), 4),
                "rows": len(rows),
            }
        plan = "\n".join(conn.execute(sa.text("EXPLAIN " + TOP_BY_PROFIT_AT_RISK)).scalars())
    # the newest partition's copy of churn_scores_profit_at_risk_idx: churn_scores_pYYYYMMDD_profit_at_risk_idx
    results["top 100 by profit_at_risk"]["reads_the_index"] = bool(
        re.search(r"Index Scan using churn_scores_p\d{8}_profit_at_risk_idx", plan)
    )
    return results
