"""`make run SNAPSHOTS=N`: N nights in a row on a synthetic history of the same customers.

Why: the outcome views (mart.realized_performance, mart.offer_effects) stay empty until a
snapshot three months after a score arrives. The history's snapshots are a month apart, ending
at the run's snapshot date, so from the fourth night on each night settles the scores of three
nights before. After each night the customers the job sent an offer have their risk of
«Снизилась» lowered by the offer's true effect on them: the segment's part
(`SYNTH_OFFER_EFFECTS`) plus a part of their own (etl/synth/truth.py: sleeping dogs, who are
pushed away by a contact, and persuadable customers), so the effect estimates and the uplift
policy can be checked against a known truth. `SYNTH_MECHANISM_CHANGE_AT=k`
changes what drives the labels of the periods from night k on (the realized ROC-AUC drops and
the job warns).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from etl.warehouse import settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from etl.synth.history import History

# The true effects of the synthetic history unless SYNTH_OFFER_EFFECTS says otherwise
# (what they mean: etl/warehouse/settings.py).
DEFAULT_OFFER_EFFECTS: Mapping[str, float] = settings.default("SYNTH_OFFER_EFFECTS")


def snapshots_from_env() -> int:
    """`SNAPSHOTS` (default 1: one night on one snapshot)."""
    return settings.current().SNAPSHOTS


def offer_effects_from_env() -> dict[str, float]:
    """`SYNTH_OFFER_EFFECTS="segment=0.15,other=0"` or DEFAULT_OFFER_EFFECTS."""
    return dict(settings.current().SYNTH_OFFER_EFFECTS)


def add_months(date: dt.date, months: int) -> dt.date:
    """`date` shifted by whole months, its day of the month clipped to the month's end (as PostgreSQL's
    date + interval 'n months' does, which the settling rule uses)."""
    month_index = date.year * 12 + date.month - 1 + months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, min(date.day, calendar.monthrange(year, month + 1)[1]))


@dataclass
class SyntheticHistory:
    """The history's snapshots on disk and the offers the job made on each of them."""

    history: History
    dates: list[dt.date]
    folder: Path
    effects: Mapping[str, float] = field(default_factory=dict)
    personal_effects: bool = True  # False: one true effect per segment (etl/synth/truth.py's part left out)

    @classmethod
    def create(
        cls,
        snapshots: int,
        last: dt.date,
        customers: int,
        seed: int,
        folder: Path,
        effects: Mapping[str, float],
        mechanism_change_at: int | None = None,
        personal_effects: bool = True,
    ) -> SyntheticHistory:
        from etl.synth.history import History, HistorySpec

        spec = HistorySpec(customers=customers, seed=seed, mechanism_change_at=mechanism_change_at)
        dates = [add_months(last, index - (snapshots - 1)) for index in range(snapshots)]
        return cls(History(spec), dates, folder, dict(effects), personal_effects)

    @classmethod
    def from_env(cls, snapshots: int, last: dt.date, customers: int, seed: int) -> SyntheticHistory:
        from etl import synth

        folder = settings.local_dir() / "data" / f"history-v{synth.GENERATOR_VERSION}-{customers}-seed{seed}"
        return cls.create(
            snapshots,
            last,
            customers,
            seed,
            folder,
            offer_effects_from_env(),
            settings.current().SYNTH_MECHANISM_CHANGE_AT,
        )

    def write(self, index: int) -> Path:
        """The four CSVs of night `index`, from the offers recorded for the nights before."""
        out = self.folder / self.dates[index].isoformat()
        self.history.write(index, out)
        return out

    def record_offers(self, engine: sa.Engine, index: int) -> int:
        """Treat the customers night `index`'s published scores sent an offer; how many."""
        import numpy as np

        from etl.synth import truth
        from etl.warehouse import db

        with engine.connect() as conn:
            offered = db.run_sql(conn, "outcomes", "select_offered_customers", {"score_date": self.dates[index]}).all()
        ids = np.asarray([int(customer) for customer, _ in offered], dtype=np.int64)
        segments = [segment for _, segment in offered]
        if self.personal_effects:
            block = self.history.features(index)
            rows = ids - self.history.spec.start_id
            effects = truth.offer_effects(
                {name: values[rows] for name, values in block.items()}, segments, self.effects
            )
        else:
            effects = np.asarray([float(self.effects.get(segment, 0.0)) for segment in segments])
        self.history.record_treatment(index, dict(zip(ids.tolist(), effects.tolist())))
        return len(offered)
