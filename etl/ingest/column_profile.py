"""Catch two numeric columns of market_file whose header names were exchanged.

Why: a botched export mapping can write «Ошибка_сервиса» over the values of «Страниц_за_визит»
and vice versa. Both are whole numbers in plausible ranges, so neither the loader's type checks
nor the gate's sanity bounds see it, and the model would silently score exchanged features.
Customers change slowly between snapshots, so each column of a new snapshot should resemble the
same column of the nearest other snapshot; an exchange shows as two columns that each resemble
the *other* column of that reference and not their own.

How (cheap on purpose, one scan per snapshot, sql/raw/select_market_file_profile.sql): count,
mean and standard deviation per column. The distance between two profiles is
|Δmean| + |Δsd| in units of their pooled sd. On the real export the closest pair of distinct
columns is 0.62 apart (categories per visit vs unpaid items); two synthetic snapshots of 1300
customers differ by at most 0.15 per column, and +10 % on every value of one column moves it
0.29. So a pair is called swapped when each column is within `NEAR` of the other's reference and
beyond `FAR` from its own. Snapshots under `MIN_ROWS` rows are too noisy to tell and are skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
from dataclasses import dataclass

import sqlalchemy as sa

from etl.warehouse import db
from etl.warehouse.sources import MARKET_FILE

log = logging.getLogger(__name__)

NEAR = 0.25
FAR = 0.45
MIN_ROWS = 500
HEADERS = {c.name: c.header for c in MARKET_FILE.columns}


@dataclass(frozen=True)
class Profile:
    n: int
    mean: float
    sd: float

    def __str__(self) -> str:
        return f"mean {self.mean:.4g} sd {self.sd:.4g}"


@dataclass(frozen=True)
class Swap:
    """Columns `a` and `b` of the new snapshot look like `b` and `a` of `reference_date`."""

    a: str
    b: str
    reference_date: dt.date
    new: dict[str, Profile]
    reference: dict[str, Profile]

    @property
    def headers(self) -> tuple[str, str]:
        return HEADERS.get(self.a, self.a), HEADERS.get(self.b, self.b)

    def describe(self) -> str:
        a, b = self.headers
        return (
            f"columns '{a}' and '{b}' look swapped against snapshot {self.reference_date} "
            f"(this file: {self._stats(self.new)}; snapshot {self.reference_date}: {self._stats(self.reference)}; "
            f"header names exchanged?)"
        )

    def _stats(self, profiles: dict[str, Profile]) -> str:
        a, b = self.headers
        return f"'{a}' {profiles[self.a]}, '{b}' {profiles[self.b]}"


def distance(x: Profile, y: Profile) -> float:
    """|Δmean| + |Δsd| in units of the pooled sd (0 for identical profiles)."""
    scale = math.sqrt((x.sd**2 + y.sd**2) / 2)
    if scale == 0:
        return 0.0 if x.mean == y.mean else math.inf
    return (abs(x.mean - y.mean) + abs(x.sd - y.sd)) / scale


def find_swap(new: dict[str, Profile], reference: dict[str, Profile], reference_date: dt.date) -> Swap | None:
    """The most evident exchanged pair of columns, or None."""
    candidates = []
    columns = [name for name in HEADERS if name in new and name in reference]  # file order
    for a, b in itertools.combinations(columns, 2):
        cross = max(distance(new[a], reference[b]), distance(new[b], reference[a]))
        own = min(distance(new[a], reference[a]), distance(new[b], reference[b]))
        if cross < NEAR and own > FAR:
            candidates.append((cross - own, a, b))
    if not candidates:
        return None
    _, a, b = min(candidates)
    return Swap(a, b, reference_date, new, reference)


def profile(conn: sa.Connection, snapshot_date: dt.date) -> dict[str, Profile]:
    result = db.run_sql(conn, "raw", "select_market_file_profile", {"snapshot_date": snapshot_date})
    return {r["column_name"]: Profile(int(r["n"]), float(r["mean"]), float(r["sd"])) for r in result.mappings()}


def check_market_file(conn: sa.Connection, snapshot_date: dt.date) -> Swap | None:
    """Compare the freshly inserted market_file of `snapshot_date` with the nearest other snapshot.

    Runs inside the load transaction, after the inserts: the caller rejects the load on a swap,
    so nothing of it is committed.
    """
    reference_date = db.run_sql(
        conn, "raw", "select_market_file_reference_snapshot", {"snapshot_date": snapshot_date}
    ).scalar()
    if reference_date is None:
        log.info("column swap check of market_file %s skipped: no other snapshot is loaded", snapshot_date)
        return None
    new, reference = profile(conn, snapshot_date), profile(conn, reference_date)
    rows = min((p.n for p in (*new.values(), *reference.values())), default=0)
    if rows < MIN_ROWS:
        log.info(
            "column swap check of market_file %s against %s skipped: %d rows, fewer than %d",
            snapshot_date,
            reference_date,
            rows,
            MIN_ROWS,
        )
        return None
    swap = find_swap(new, reference, reference_date)
    if swap is None:
        log.info("column swap check of market_file %s against %s: no swapped columns", snapshot_date, reference_date)
    return swap
