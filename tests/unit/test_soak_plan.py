"""make soak's plan: every fault and bad export on a night of its own, for any NIGHTS it accepts
(a fault planned on a bad night would wait for a task that never runs)."""

from __future__ import annotations

import datetime as dt

import pytest

from bench import soak


@pytest.mark.parametrize("nights", [10, 11, 17, 30, 61])
def test_faults_and_bad_exports_fall_on_distinct_nights(nights):
    dates = [soak.FIRST_NIGHT + dt.timedelta(days=i) for i in range(nights)]
    plan = soak.plan(dates)
    struck = [fault.night for fault in plan.faults] + list(plan.bad)
    assert len(set(struck)) == len(struck) == 8 and set(struck) <= set(dates)
    assert sorted(plan.bad.values()) == sorted(soak.BAD_EXPORTS)
    assert [fault.kind for fault in plan.faults].count("killed task") == 3


def test_fewer_than_ten_nights_are_refused():
    with pytest.raises(SystemExit, match="NIGHTS >= 10"):
        soak.plan([soak.FIRST_NIGHT + dt.timedelta(days=i) for i in range(9)])
