"""A gate task's log shows the gate's own findings, not Great Expectations' INFO chatter: importing
etl.quality caps GX's loggers at WARNING before GX is imported (a fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.unit

PROBE = """
import logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        if record.name.startswith("great_expectations") and record.levelno < logging.WARNING:
            records.append(record.levelname)
logging.basicConfig(level=logging.INFO)
logging.getLogger().addHandler(Keep())
if sys.argv[1] == "via-etl.quality":
    import etl.quality
    from etl.data_docs import DataDocs
    from etl.quality import gate
    gate._context("postgresql://nobody@/nowhere", DataDocs())  # the gate's own context, as a task makes it
else:
    import great_expectations as gx
    gx.get_context(mode="ephemeral")
print(len(records))
"""


def _gx_records(how: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, how],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "GX_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.strip().splitlines()[-1])


def test_great_expectations_info_lines_stay_out_of_task_logs():
    assert _gx_records("plain") > 50  # what a task log got before: GX is that chatty at INFO
    assert _gx_records("via-etl.quality") == 0
