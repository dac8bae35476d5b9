"""job/orchestration/export_wait.py: the trigger fires when the whole export is there or when the wait times
out; the operator then hands on the snapshot, or fails once naming what is missing."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest

from job.orchestration.export_wait import EXPORT_FILES, ExportTrigger, WaitForExportOperator, missing_files

pytestmark = pytest.mark.unit


def _first_event(trigger: ExportTrigger, within: float = 10):
    async def first():
        async for event in trigger.run():
            return event.payload

    return asyncio.run(asyncio.wait_for(first(), within))


def test_the_trigger_fires_once_every_file_of_the_export_has_arrived(tmp_path):
    (tmp_path / EXPORT_FILES[0]).write_text("id\n")

    def the_rest_arrives():
        time.sleep(0.5)
        for name in EXPORT_FILES[1:]:
            (tmp_path / name).write_text("id\n")

    threading.Thread(target=the_rest_arrives).start()
    started = time.monotonic()
    assert _first_event(ExportTrigger(str(tmp_path), time.time() + 30, poke_interval=0.1)) == {"status": "complete"}
    assert 0.4 < time.monotonic() - started < 5
    assert missing_files(tmp_path) == []


def test_the_trigger_gives_up_at_its_deadline_naming_the_missing_files(tmp_path):
    (tmp_path / "money.csv").write_text("id;Прибыль\n")
    event = _first_event(ExportTrigger(str(tmp_path / ""), time.time() + 0.3, poke_interval=5))
    assert event == {"status": "timeout", "missing": [n for n in EXPORT_FILES if n != "money.csv"]}


def test_the_trigger_serializes_to_what_the_triggerer_rebuilds_it_from(tmp_path):
    path, kwargs = ExportTrigger(str(tmp_path), 123.0, 60.0).serialize()
    assert path == "job.orchestration.export_wait.ExportTrigger"
    assert ExportTrigger(**kwargs).serialize() == (path, kwargs)


def test_a_timed_out_wait_fails_once_with_the_folder_and_the_missing_files(tmp_path):
    from airflow.sdk.exceptions import AirflowFailException

    operator = WaitForExportOperator(
        task_id="wait", wait_timeout=dt.timedelta(hours=4), poke_interval=dt.timedelta(minutes=5)
    )
    with pytest.raises(
        AirflowFailException,
        match=r"export of 2026-11-28 is not complete after 4:00:00: market_time.csv missing in /x/2026-11-28",
    ):
        operator.execute_complete(
            {}, {"status": "timeout", "missing": ["market_time.csv"]}, "2026-11-28", "/x/2026-11-28"
        )
    assert operator.execute_complete({}, {"status": "complete"}, "2026-11-28", "/x") == dt.date(2026, 11, 28)
