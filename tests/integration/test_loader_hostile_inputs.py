"""Each hostile value gets its documented outcome, stays data, and is shown escaped in messages.

The real export is loaded once at two dates (so every later load has a reference snapshot for the
column swap check). Each case then loads its changed copy under a date of its own and runs the raw
gate when the loader accepts. A loader rejection is also tried over the loaded BASELINE date,
whose partitions must stay exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from etl import ingest, quality
from etl.ingest.loader import LoadError
from etl.warehouse.text import has_hidden_characters, visible
from tests.helpers import copy_export, rows
from tests.integration.corruptions import Csv
from tests.integration.hostile_inputs import (
    CATALOGUE,
    GATE,
    LOADER,
    STORED,
    Hostile,
    partitions,
    raw_fingerprint,
    swap_headers,
)

REFERENCE = dt.date(2026, 12, 31)
BASELINE = dt.date(2027, 1, 1)
FIRST_CASE_DATE = dt.date(2027, 1, 2)


def _case_date(case: Hostile) -> dt.date:
    return FIRST_CASE_DATE + dt.timedelta(days=CATALOGUE.index(case))


@pytest.fixture(scope="module")
def baseline(engine, real_data_dir) -> dict[str, tuple[int, str]]:
    for snapshot_date in (REFERENCE, BASELINE):
        ingest.load_raw(engine, snapshot_date, data_dir=real_data_dir)
    fingerprint = raw_fingerprint(engine, BASELINE)
    assert fingerprint["raw.market_file"][0] == 1300 and fingerprint["raw.money"][0] == 1300
    return fingerprint


def _load_and_gate(engine, folder: Path, snapshot_date: dt.date) -> tuple[str, Exception | None]:
    try:
        ingest.load_raw(engine, snapshot_date, data_dir=folder)
    except LoadError as error:
        return LOADER, error
    try:
        quality.validate(engine, "raw", snapshot_date)
    except quality.QualityGateFailed as error:
        return GATE, error
    return STORED, None


def test_catalogue_covers_the_hostile_kinds():
    assert 15 <= len(CATALOGUE) <= 30
    assert {c.outcome for c in CATALOGUE} == {LOADER, GATE, STORED}
    assert all(c.why for c in CATALOGUE)
    assert all(c.line for c in CATALOGUE if c.outcome == STORED)
    hidden = "".join(c.hidden for c in CATALOGUE)
    assert all(ch in hidden for ch in "\x00\x01\x1b\u00a0\u200b\ufeff")


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_hostile_input_gets_its_documented_outcome(case: Hostile, baseline, engine, real_data_dir, tmp_path):
    folder = case.apply(copy_export(real_data_dir, tmp_path / case.name))
    snapshot_date = _case_date(case)

    outcome, error = _load_and_gate(engine, folder, snapshot_date)

    assert outcome == case.outcome, f"{case.name}: expected {case.outcome} because {case.why}\ngot: {error}"
    message = str(error) if error else ""
    if outcome == LOADER:
        _assert_loader_rejection(case, error, engine, folder, snapshot_date)
    elif outcome == GATE:
        assert f"{case.table}.{case.column}" in message and case.file in message, message
        assert partitions(engine, snapshot_date), "the gate judges the landed partitions"
    else:
        _assert_stored(case, engine, folder, snapshot_date)
    # Input stayed data: the table its SQL text names is there, every baseline row unchanged.
    [money] = rows(engine, "SELECT to_regclass('raw.money') IS NOT NULL AS present")
    assert money["present"]
    assert raw_fingerprint(engine, BASELINE) == baseline
    _assert_hidden_shown_escaped(case, message)


def _assert_loader_rejection(case: Hostile, error: LoadError, engine, folder: Path, snapshot_date: dt.date) -> None:
    message = str(error)
    assert error.file_name == case.file and message.startswith(case.file), message
    if case.column:
        assert visible(case.column) in message and case.column in error.columns, message
    if case.line:
        assert case.line in error.lines and f"line {case.line}" in message, message
    assert case.says in message, message
    assert "\n" not in message and len(message) < 1500 and not has_hidden_characters(message), message
    assert partitions(engine, snapshot_date) == [], "a rejected load leaves no partition of its date"
    with pytest.raises(LoadError) as again:  # over a date that holds a good snapshot
        ingest.load_raw(engine, BASELINE, data_dir=folder)
    assert str(again.value).split(" against snapshot ")[0] == message.split(" against snapshot ")[0]


def _assert_stored(case: Hostile, engine, folder: Path, snapshot_date: dt.date) -> None:
    table = Csv.read(folder / case.file)
    row = table.rows[case.line - 2]
    where = {"customer_id": int(row[table.col("id")])}
    if "Период" in table.header:
        where["period"] = row[table.col("Период")]
    condition = " AND ".join(f"{k} = :{k}" for k in where)  # names from the line above, not input
    stored = rows(
        engine,
        f"SELECT {case.column} AS value FROM {case.table} WHERE snapshot_date = :d AND {condition}",
        d=snapshot_date,
        **where,
    )
    assert stored == [{"value": case.stored}]


def _assert_hidden_shown_escaped(case: Hostile, message: str) -> None:
    """Every invisible character of the case shows as an escape, never as itself."""
    for char in case.hidden:
        escapes = {visible(char), json.dumps(char)[1:-1]}  # etl.warehouse.text, or JSON as in gate samples
        assert char not in message and any(e in message for e in escapes), message


# ---------------------------------------------------------------------- exchanged header names
def test_swapped_headers_are_rejected_and_the_load_rolls_back(engine, real_data_dir, tmp_path):
    before, snapshot_date = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
    ingest.load_raw(engine, before, data_dir=real_data_dir)
    kept = raw_fingerprint(engine, before)
    folder = copy_export(real_data_dir, tmp_path / "swapped")
    swap_headers("market_file.csv", "Ошибка_сервиса", "Страниц_за_визит")(folder)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, snapshot_date, data_dir=folder)
    message = str(caught.value)
    assert message.startswith(
        f"market_file.csv: columns 'Ошибка_сервиса' and 'Страниц_за_визит' look swapped against snapshot {before} ("
    ), message
    assert "mean 8.177 sd 3.978" in message and "mean 4.185 sd 1.955" in message
    assert caught.value.columns == ["Ошибка_сервиса", "Страниц_за_визит"]
    assert raw_fingerprint(engine, before) == kept
    assert partitions(engine, snapshot_date) == []


@pytest.mark.parametrize(
    "pair",
    [
        ("Средний_просмотр_категорий_за_визит", "Неоплаченные_продукты_штук_квартал"),
        ("Маркет_актив_тек_мес", "Ошибка_сервиса"),
        ("Длительность", "Страниц_за_визит"),
    ],
)
def test_the_closest_column_pairs_are_caught_when_swapped(pair, engine, real_data_dir, tmp_path):
    ingest.load_raw(engine, dt.date(2027, 3, 5), data_dir=real_data_dir)
    folder = copy_export(real_data_dir, tmp_path / "pair")
    swap_headers("market_file.csv", *pair)(folder)
    with pytest.raises(LoadError, match="look swapped against snapshot 2027-03-05"):
        ingest.load_raw(engine, dt.date(2027, 3, 6), data_dir=folder)


def test_reloading_the_real_export_is_not_a_swap(engine, real_data_dir):
    for snapshot_date in (dt.date(2027, 3, 10), dt.date(2027, 3, 11), dt.date(2027, 3, 10)):
        assert ingest.load_raw(engine, snapshot_date, data_dir=real_data_dir)["market_file.csv"] == 1300


def test_synthetic_snapshots_of_two_seeds_are_not_a_swap(engine, tmp_path):
    from etl import synth

    for seed, snapshot_date in ((1, dt.date(2027, 3, 20)), (2, dt.date(2027, 3, 21))):
        synth.generate_snapshot(tmp_path / str(seed), customers=1300, seed=seed)
        assert ingest.load_raw(engine, snapshot_date, data_dir=tmp_path / str(seed))["market_file.csv"] == 1300


@pytest.mark.parametrize("header", ["Страниц_за_визит", "Неоплаченные_продукты_штук_квартал", "Маркет_актив_6_мес"])
def test_a_modest_real_shift_is_not_a_swap(header, engine, real_data_dir, tmp_path):
    ingest.load_raw(engine, dt.date(2027, 3, 25), data_dir=real_data_dir)
    folder = copy_export(real_data_dir, tmp_path / "shift")
    lines = (folder / "market_file.csv").read_text().splitlines()
    index = lines[0].split(",").index(header)
    for n in range(1, len(lines)):
        fields = lines[n].split(",")
        shifted = float(fields[index]) * 1.1
        fields[index] = f"{shifted:.1f}" if "." in fields[index] else str(round(shifted))
        lines[n] = ",".join(fields)
    (folder / "market_file.csv").write_text("\n".join(lines) + "\n")
    assert ingest.load_raw(engine, dt.date(2027, 3, 26), data_dir=folder)["market_file.csv"] == 1300
