"""`make run SNAPSHOTS=N`'s settings and dates (job/local/synthetic_history.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.warehouse import settings
from job.local import synthetic_history as history

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "date, months, expected",
    [
        (dt.date(2027, 5, 31), -3, dt.date(2027, 2, 28)),  # clipped to the month's end, as PostgreSQL does
        (dt.date(2027, 1, 31), 3, dt.date(2027, 4, 30)),
        (dt.date(2026, 12, 2), -5, dt.date(2026, 7, 2)),
        (dt.date(2027, 11, 15), 2, dt.date(2028, 1, 15)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
    ],
)
def test_add_months_clips_to_the_months_end(date, months, expected):
    assert history.add_months(date, months) == expected


def test_the_history_ends_at_the_run_date_a_month_apart(tmp_path):
    story = history.SyntheticHistory.create(5, dt.date(2027, 5, 31), 50, 1, tmp_path, {"abandoned_cart": 0.1})
    assert story.dates == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
        dt.date(2027, 5, 31),
    ]
    # each night settles the one three months before: the first snapshot on or after date + 3 months
    assert all(history.add_months(story.dates[k], 3) <= story.dates[k + 3] for k in range(2))
    assert (story.write(0) / "money.csv").is_file()


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv("SNAPSHOTS", raising=False)
    monkeypatch.delenv("SYNTH_OFFER_EFFECTS", raising=False)
    assert history.snapshots_from_env() == 1
    assert history.offer_effects_from_env() == dict(history.DEFAULT_OFFER_EFFECTS)
    monkeypatch.setenv("SNAPSHOTS", "6")
    monkeypatch.setenv("SYNTH_OFFER_EFFECTS", "kids_goods=0.2, cosmetics=0")
    assert history.snapshots_from_env() == 6
    assert history.offer_effects_from_env() == {"kids_goods": 0.2, "cosmetics": 0.0}
    for bad in ("0", "six", "-1"):
        monkeypatch.setenv("SNAPSHOTS", bad)
        with pytest.raises(settings.ConfigError, match="SNAPSHOTS"):
            history.snapshots_from_env()
    monkeypatch.setenv("SYNTH_OFFER_EFFECTS", "kids_goods")
    with pytest.raises(settings.ConfigError, match="SYNTH_OFFER_EFFECTS"):
        history.offer_effects_from_env()
