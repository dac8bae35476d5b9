"""An unexpected-rows check evaluates its query once per gate, and still reports count and rows."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl import quality

pytestmark = pytest.mark.integration

SNAPSHOT = dt.date(2031, 1, 1)


def test_unexpected_rows_query_runs_once_with_count_and_sample(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.text("DROP TABLE IF EXISTS public.single_pass_probe; DROP SEQUENCE IF EXISTS public.single_pass_calls")
        )
        conn.execute(sa.text("CREATE TABLE public.single_pass_probe (snapshot_date date, v integer)"))
        conn.execute(sa.text("CREATE SEQUENCE public.single_pass_calls"))
        conn.execute(
            sa.text("INSERT INTO public.single_pass_probe SELECT :d, g FROM generate_series(1, 300) g"), {"d": SNAPSHOT}
        )
    spec = quality.parse_suite(
        {
            "name": "probe.single_pass",
            "layer": "raw",
            "table": "public.single_pass_probe",
            "columns": {"snapshot_date": "date", "v": "integer"},
            "expectations": [
                {
                    "type": "unexpected_rows_expectation",
                    "severity": "warning",
                    "notes": "counts its evaluations",
                    "kwargs": {
                        "unexpected_rows_query": "SELECT v, nextval('public.single_pass_calls') AS call FROM {batch} WHERE v > 50"
                    },
                }
            ],
        }
    )
    result = quality.validate(engine, "raw", SNAPSHOT, suites=[spec])
    [finding] = [
        f for f in result.suites[0].findings if f.expectation == "unexpected_rows_expectation" and not f.success
    ]
    with engine.connect() as conn:
        calls = conn.execute(sa.text("SELECT last_value FROM public.single_pass_calls")).scalar()
    assert finding.unexpected_count == 250
    assert [row["v"] for row in finding.sample] == [51, 52, 53, 54, 55]
    assert calls == 250  # every unexpected row was produced once: no second COUNT(*) pass


def test_raw_suites_read_the_snapshot_partition_in_place(engine, real_data_dir):
    """No copy of a raw batch: the gate hands GX the partition; unpartitioned tables keep the query."""
    from etl import ingest
    from etl.quality import gate

    snapshot_date = dt.date(2031, 1, 2)
    ingest.load_raw(engine, snapshot_date, data_dir=real_data_dir)
    found = gate._partitions(engine, quality.load_suites(), snapshot_date)
    assert found == {
        f"raw.{t}": ("raw", f"{t}_p20310102") for t in ("market_file", "market_money", "market_time", "money")
    }
