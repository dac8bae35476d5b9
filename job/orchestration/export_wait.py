"""Waiting for a snapshot date's export: a deferrable task that holds no worker slot while it waits.

The store writes the four CSVs of snapshot D into `DATA_DIR` (its `{snapshot_date}` replaced
by D) some time in the night. `wait_for_export` resolves the run's snapshot, finds the folder
and, while a file is missing, defers to `ExportTrigger` in the triggerer, which looks again
every `poke_interval` seconds. When all four are there it hands the snapshot on; when
`wait_timeout` passes first it fails once, naming the folder and the missing files (a missing
export is waited for, never retried as an error; bad data in a present export fails later, in
load_raw, without retries). The task still has the DAG's retries: a crash that kills its process
while it starts or resumes (the deployment killed at night) is retried, not left failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any, AsyncIterator

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

from etl.warehouse import settings
from etl.warehouse.sources import SOURCES
from job.orchestration import runtime

EXPORT_FILES = tuple(source.file_name for source in SOURCES)


def missing_files(folder: Path) -> list[str]:
    """The export's files not (yet) in `folder`; a file still being written counts as present,
    the loader's checks catch a truncated one."""
    return [name for name in EXPORT_FILES if not (folder / name).is_file()]


class ExportTrigger(BaseTrigger):
    """Fires once: when every export file is in `folder`, or when `deadline` (epoch seconds) passes."""

    def __init__(self, folder: str, deadline: float, poke_interval: float) -> None:
        super().__init__()
        self.folder, self.deadline, self.poke_interval = folder, deadline, poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{__name__}.ExportTrigger",
            {"folder": self.folder, "deadline": self.deadline, "poke_interval": self.poke_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            missing = missing_files(Path(self.folder))
            if not missing:
                yield TriggerEvent({"status": "complete"})
                return
            if time.time() >= self.deadline:
                yield TriggerEvent({"status": "timeout", "missing": missing})
                return
            await asyncio.sleep(min(self.poke_interval, max(0.0, self.deadline - time.time())))


class WaitForExportOperator(BaseOperator):
    """Hands on the run's snapshot date once its export is complete (see the module docstring)."""

    ui_color = "#e8f0fa"

    def __init__(self, *, wait_timeout: dt.timedelta, poke_interval: dt.timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_timeout, self.poke_interval = wait_timeout, poke_interval

    def execute(self, context: Any) -> dt.date:
        snapshot = runtime.snapshot_date(context)
        folder = settings.export_dir(snapshot)
        missing = missing_files(folder)
        if not missing:
            self.log.info("export of %s is complete in %s", snapshot, folder)
            return snapshot
        self.log.info("waiting up to %s for %s in %s", self.wait_timeout, ", ".join(missing), folder)
        self.defer(
            trigger=ExportTrigger(
                str(folder), time.time() + self.wait_timeout.total_seconds(), self.poke_interval.total_seconds()
            ),
            method_name="execute_complete",
            kwargs={"snapshot": snapshot.isoformat(), "folder": str(folder)},
        )

    def execute_complete(self, context: Any, event: dict[str, Any], snapshot: str, folder: str) -> dt.date:
        if event["status"] != "complete":
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(
                f"the export of {snapshot} is not complete after {self.wait_timeout}: "
                f"{', '.join(event['missing'])} missing in {folder}"
            )
        self.log.info("export of %s arrived in %s", snapshot, folder)
        return dt.date.fromisoformat(snapshot)
