"""`make run SNAPSHOTS=N`: N nights in a row on a synthetic history of the same customers.

Why: the outcome views (mart.realized_performance, mart.offer_effects) stay empty until a
snapshot three months after a score arrives. The history's snapshots are a month apart, ending
at the run's snapshot date, so from the fourth night on each night settles the scores of three
nights before. After each night the customers the job sent an offer (the treatment group)
have their risk of «Снизилась» lowered by the segment's true effect (`SYNTH_OFFER_EFFECTS`),
so the effect estimates can be checked against a known truth. `SYNTH_MECHANISM_CHANGE_AT=k`
changes what drives the labels of the periods from night k on (the realized ROC-AUC drops and
the job warns).
"""
from __future__ import annotations

import calendar
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from etl.warehouse import settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from etl.synth.history import History

# The true effects of the synthetic history: absolute reduction of a treated customer's
# probability of «Снизилась» over the three months after the offer; other segments none.
DEFAULT_OFFER_EFFECTS: Mapping[str, float] = {
    "high_risk_high_profit": 0.15, "abandoned_cart": 0.10, "promo_dependent": 0.10,
}


def snapshots_from_env() -> int:
    """`SNAPSHOTS` (default 1: one night on one snapshot)."""
    value = os.environ.get("SNAPSHOTS") or "1"
    if not value.isdigit() or int(value) < 1:
        raise settings.ConfigError(f"SNAPSHOTS must be a whole number >= 1, got {value!r}")
    return int(value)


def offer_effects_from_env() -> dict[str, float]:
    """`SYNTH_OFFER_EFFECTS="segment=0.15,other=0"` or DEFAULT_OFFER_EFFECTS."""
    text = os.environ.get("SYNTH_OFFER_EFFECTS")
    if not text:
        return dict(DEFAULT_OFFER_EFFECTS)
    try:
        pairs = [item.split("=") for item in text.split(",") if item.strip()]
        return {name.strip(): float(value) for name, value in pairs}
    except ValueError:
        raise settings.ConfigError(f"SYNTH_OFFER_EFFECTS must look like 'segment=0.15,other=0', got {text!r}") from None


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` shifted by whole months, the day clipped to the month's end (as PostgreSQL's
    date + interval 'n months' does, which the settling rule uses)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass
class SyntheticHistory:
    """The history's snapshots on disk and the offers the job made on each of them."""

    history: History
    dates: list[dt.date]
    folder: Path
    effects: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, snapshots: int, last: dt.date, customers: int, seed: int, folder: Path,
               effects: Mapping[str, float], mechanism_change_at: int | None = None) -> SyntheticHistory:
        from etl.synth.history import History, HistorySpec

        spec = HistorySpec(customers=customers, seed=seed, mechanism_change_at=mechanism_change_at)
        dates = [add_months(last, index - (snapshots - 1)) for index in range(snapshots)]
        return cls(History(spec), dates, folder, dict(effects))

    @classmethod
    def from_env(cls, snapshots: int, last: dt.date, customers: int, seed: int) -> SyntheticHistory:
        from etl import synth

        change = os.environ.get("SYNTH_MECHANISM_CHANGE_AT")
        folder = settings.local_dir() / "data" / f"history-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
        return cls.create(snapshots, last, customers, seed, folder, offer_effects_from_env(),
                          int(change) if change else None)

    def write(self, index: int) -> Path:
        """The four CSVs of night `index`, from the offers recorded for the nights before."""
        out = self.folder / self.dates[index].isoformat()
        self.history.write(index, out)
        return out

    def record_offers(self, engine: sa.Engine, index: int) -> int:
        """Treat the customers night `index`'s published scores sent an offer; how many."""
        from etl.warehouse import db

        with engine.connect() as conn:
            offered = db.run_sql(conn, "outcomes", "select_offered_customers",
                                 {"score_date": self.dates[index]}).all()
        self.history.record_treatment(index, {int(customer): float(self.effects.get(segment, 0.0))
                                              for customer, segment in offered})
        return len(offered)
