"""Known format variants load to identical features; bad files are rejected and lose nothing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

import pytest

from etl import ingest
from etl.ingest.loader import LoadError
from tests.helpers import copy_export, features_of, rows
from tests.integration.hostile_inputs import partitions

BASELINE = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def baseline(engine, real_data_dir):
    ingest.load_raw(engine, BASELINE, data_dir=real_data_dir)
    ingest.build_staging(engine, BASELINE)
    ingest.build_features(engine, BASELINE)
    ingest.validate_features(engine, BASELINE)
    ingest.publish_features(engine, BASELINE)
    return features_of(engine, BASELINE)


def _rewrite(path: Path, change: Callable[[bytes], bytes]) -> None:
    path.write_bytes(change(path.read_bytes()))


def _money_as_comma_separated(data: bytes) -> bytes:
    lines = data.decode().splitlines()
    out = ["id,Прибыль"] + [line.split(";")[0] + "," + line.split(";")[1].replace(",", ".") for line in lines[1:]]
    return ("\n".join(out) + "\n").encode()


def _money_quoted_decimal_comma(data: bytes) -> bytes:
    lines = data.decode().splitlines()
    out = ["id,Прибыль"] + [f'{line.split(";")[0]},"{line.split(";")[1]}"' for line in lines[1:]]
    return ("\n".join(out) + "\n").encode()


def _integer_looking_profits(data: bytes) -> bytes:
    # "4,00" → "4": integer-looking values as some tools write them
    return re.sub(rb";(\d+),0+\n", rb";\1\n", data)


VARIANTS: dict[str, Callable[[Path], None]] = {
    "crlf_line_endings": lambda d: [
        _rewrite(d / f, lambda b: b.replace(b"\n", b"\r\n"))
        for f in ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")
    ],
    "no_final_newline": lambda d: [
        _rewrite(d / f, lambda b: b.rstrip(b"\n"))
        for f in ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")
    ],
    "utf8_bom": lambda d: [
        _rewrite(d / f, lambda b: b"\xef\xbb\xbf" + b)
        for f in ("market_file.csv", "market_money.csv", "market_time.csv", "money.csv")
    ],
    "money_comma_and_dot": lambda d: _rewrite(d / "money.csv", _money_as_comma_separated),
    "money_quoted_decimal_comma": lambda d: _rewrite(d / "money.csv", _money_quoted_decimal_comma),
    "money_integer_profits": lambda d: _rewrite(d / "money.csv", _integer_looking_profits),
    "columns_reordered": lambda d: _rewrite(
        d / "market_money.csv",
        lambda b: b"".join(
            (lambda p: p[2] + b"," + p[0] + b"," + p[1] + b"\n")(line.split(b",")) for line in b.splitlines()
        ),
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_loads_to_identical_features(variant, baseline, engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / variant)
    VARIANTS[variant](folder)
    assert (folder / "money.csv").read_bytes() != b""
    snapshot = dt.date(2026, 4, 1) + dt.timedelta(days=sorted(VARIANTS).index(variant))
    counts = ingest.load_raw(engine, snapshot, data_dir=folder)
    assert counts["money.csv"] == 1300
    ingest.build_staging(engine, snapshot)
    ingest.build_features(engine, snapshot)
    ingest.validate_features(engine, snapshot)
    ingest.publish_features(engine, snapshot)
    loaded = [{**r, "snapshot_date": BASELINE} for r in features_of(engine, snapshot)]
    assert loaded == baseline


def test_integer_profit_variant_really_has_integers(real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "ints")
    VARIANTS["money_integer_profits"](folder)
    assert re.search(rb"\n\d+;\d+\n", (folder / "money.csv").read_bytes())


def _drop_column(file: str, header: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        text = (folder / file).read_text()
        sep = ";" if file == "money.csv" else ","
        lines = [line.split(sep) for line in text.splitlines()]
        index = lines[0].index(header)
        (folder / file).write_text("\n".join(sep.join(p[:index] + p[index + 1 :]) for p in lines) + "\n")

    return change


def _replace_line(file: str, line_number: int, old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        lines = (folder / file).read_text().splitlines(keepends=True)
        assert old in lines[line_number - 1]
        lines[line_number - 1] = lines[line_number - 1].replace(old, new, 1)
        (folder / file).write_text("".join(lines))

    return change


# case → (corruption, file named, column named (header), line named or None)
REJECTED: dict[str, tuple[Callable[[Path], None], str, str | None, int | None]] = {
    "missing_file": (lambda d: (d / "market_time.csv").unlink(), "market_time.csv", None, None),
    "missing_column": (_drop_column("market_file.csv", "Длительность"), "market_file.csv", "Длительность", 1),
    "unknown_column": (
        lambda d: (d / "market_money.csv").write_text(
            (d / "market_money.csv").read_text().replace("Выручка", "Выручка_руб", 1)
        ),
        "market_money.csv",
        "Выручка_руб",
        1,
    ),
    "non_numeric_revenue": (_replace_line("market_money.csv", 7, ",5216.0", ",abc"), "market_money.csv", "Выручка", 7),
    "non_numeric_profit": (_replace_line("money.csv", 11, ";4,66", ";n/a"), "money.csv", "Прибыль", 11),
    "empty_file": (lambda d: (d / "money.csv").write_bytes(b""), "money.csv", None, None),
    "header_only": (lambda d: (d / "market_time.csv").write_text("id,Период,минут\n"), "market_time.csv", None, None),
    "other_encoding": (
        lambda d: (d / "market_file.csv").write_bytes((d / "market_file.csv").read_text().encode("cp1251")),
        "market_file.csv",
        None,
        1,
    ),
    "truncated_last_line": (
        lambda d: (d / "market_time.csv").write_text((d / "market_time.csv").read_text().rstrip("\n")[:-3] + "\n"),
        "market_time.csv",
        "минут",
        2601,
    ),
    "fractional_integer": (
        _replace_line("market_file.csv", 3, ",819,", ",819.5,"),
        "market_file.csv",
        "Длительность",
        3,
    ),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bad_input_is_rejected_and_loses_nothing(case, baseline, engine, real_data_dir, tmp_path):
    corrupt, file_name, column, line = REJECTED[case]
    folder = copy_export(real_data_dir, tmp_path / case)
    corrupt(folder)
    raw_before = rows(engine, "SELECT snapshot_date, count(*) AS n FROM raw.market_money GROUP BY 1 ORDER BY 1")
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, BASELINE, data_dir=folder)  # the date that already holds a good snapshot
    message = str(caught.value)
    assert file_name in message and caught.value.file_name == file_name
    if column:
        assert column in message and caught.value.column == column
    if line:
        assert line in caught.value.lines
    assert features_of(engine, BASELINE) == baseline
    assert rows(engine, "SELECT snapshot_date, count(*) AS n FROM raw.market_money GROUP BY 1 ORDER BY 1") == raw_before
    [raw] = rows(engine, "SELECT count(*) AS n FROM raw.market_file WHERE snapshot_date = :d", d=BASELINE)
    assert raw["n"] == 1300


# ------------------------------------------------- numbers a double cannot hold, database errors
def _set_field(file: str, line: int, header: str, value: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        sep = ";" if file == "money.csv" else ","
        lines = (folder / file).read_text().splitlines()
        fields = lines[line - 1].split(sep)
        fields[lines[0].split(sep).index(header)] = value
        lines[line - 1] = sep.join(fields)
        (folder / file).write_text("\n".join(lines) + "\n")

    return change


@pytest.mark.parametrize(
    "value",
    [
        "1e-400",
        "-1e-400",
        "1e309",
        "-1e400",
        "1e-310",
        "1e300",
        "1e-99999",
        "1e99999",
        "9" * 100_000,
        "0." + "0" * 500 + "1",
    ],
)
def test_number_a_double_cannot_hold_is_named_with_file_column_and_line(value, engine, real_data_dir, tmp_path):
    """These match the number pattern, yet no double holds them (or the text is absurd): the check
    must refuse them with file, column and line, before an INSERT could fail on them."""
    folder = copy_export(real_data_dir, tmp_path / "n")
    _set_field("market_file.csv", 9, "Акционные_покупки", value)(folder)
    snapshot_date = dt.date(2027, 2, 1)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, snapshot_date, data_dir=folder)
    error = caught.value
    assert (error.file_name, error.column, error.lines) == ("market_file.csv", "Акционные_покупки", [9])
    assert str(error).startswith("market_file.csv, column 'Акционные_покупки': ") and len(str(error)) < 400
    assert value[:20] in str(error)
    assert partitions(engine, snapshot_date) == []


@pytest.mark.parametrize("value", ["1e-300", "0e-99999", "-0.0", "1e299", "0.5e-1", ".5", "7.", "1E+2"])
def test_numbers_a_double_holds_are_loaded(value, engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "ok")
    _set_field("market_money.csv", 3, "Выручка", value)(folder)
    snapshot_date = dt.date(2027, 2, 2)
    ingest.load_raw(engine, snapshot_date, data_dir=folder)
    [stored] = rows(
        engine,
        "SELECT revenue FROM raw.market_money WHERE snapshot_date = :d AND customer_id = 215348 "
        "AND period = 'текущий_месяц'",
        d=snapshot_date,
    )
    assert stored["revenue"] == float(value)


def test_database_error_on_insert_becomes_a_one_line_load_error(engine, real_data_dir, tmp_path, monkeypatch):
    """Whatever slips past the checks, the INSERT's failure names the file, not the SQL."""
    from etl.ingest import loader

    monkeypatch.setattr(loader, "_check_load_table", lambda conn, source: None)
    folder = copy_export(real_data_dir, tmp_path / "db")
    _set_field("market_file.csv", 4, "Акционные_покупки", "1" + "0" * 1000 + "e-1400")(folder)
    snapshot_date = dt.date(2027, 2, 3)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, snapshot_date, data_dir=folder)
    message = str(caught.value)
    assert message.startswith("market_file.csv: could not be stored in raw.market_file: ")
    assert 'null value in column "promo_share"' in message
    assert "\n" not in message and len(message) < 400 and "INSERT" not in message, message
    assert caught.value.__cause__ is None  # the statement and its parameters stay out of the log
    assert partitions(engine, snapshot_date) == []


# ------------------------------------------------------------------------- what messages say
@pytest.mark.parametrize(
    ("file", "where", "line"), [("market_money.csv", 8, 8), ("money.csv", 1300, 1300), ("market_file.csv", 2, 2)]
)
def test_nul_byte_is_named_as_binary_data_with_its_line(file, where, line, engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "nul")
    lines = (folder / file).read_bytes().split(b"\n")
    lines[where - 1] = lines[where - 1][:-2] + b"\x00" + lines[where - 1][-2:]
    (folder / file).write_bytes(b"\n".join(lines))
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, dt.date(2027, 2, 4), data_dir=folder)
    message = str(caught.value)
    assert "NUL byte (binary data)" in message and "UTF-8" not in message, message
    assert caught.value.lines == [line] and caught.value.file_name == file and "\\x00" in message


def test_nul_byte_in_header_and_utf16_files(engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "utf16")
    (folder / "market_time.csv").write_bytes((folder / "market_time.csv").read_text().encode("utf-16"))
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, dt.date(2027, 2, 4), data_dir=folder)
    assert "NUL byte" in str(caught.value) and caught.value.lines == [1], str(caught.value)


@pytest.mark.parametrize("header", ['id,"Период\nдубль",минут', 'id,"Период,минут', 'id,Период,"минут'])
def test_header_spanning_several_lines_is_named(header, engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "hdr")
    body = (folder / "market_time.csv").read_text().split("\n", 1)[1]
    (folder / "market_time.csv").write_text(header + "\n" + body)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, dt.date(2027, 2, 4), data_dir=folder)
    assert str(caught.value).startswith("market_time.csv: header spans several lines"), str(caught.value)
    assert "missing" not in str(caught.value) and caught.value.lines == [1]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Период\u00a0", None),
        ("Пери\u00a0од", "Пери\\xa0од"),
        ("Пери\u200bод", "Пери\\u200bод"),
        ("\ufeffПериод", "\\ufeffПериод"),
        ("Пери\x01од", "Пери\\x01од"),
        ("Пeриод", "Пeриод"),
    ],
)
def test_hidden_characters_in_an_unknown_header_are_shown_escaped(name, shown, engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "hidden")
    text = (folder / "market_time.csv").read_text()
    (folder / "market_time.csv").write_text(text.replace("Период", name, 1))
    if shown is None:  # trailing Unicode spaces around a name are trimmed like ASCII ones
        assert ingest.load_raw(engine, dt.date(2027, 2, 5), data_dir=folder)["market_time.csv"] == 2600
        return
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, dt.date(2027, 2, 5), data_dir=folder)
    message = str(caught.value)
    assert f"column '{shown}': unknown column in header" in message and name not in message.replace(shown, ""), message
    if name == "Пeриод":  # Latin 'e'
        assert "U+0065" in message


def test_sample_values_are_shown_quoted_escaped_and_cut(engine, real_data_dir, tmp_path):
    folder = copy_export(real_data_dir, tmp_path / "samples")
    _set_field("market_time.csv", 5, "минут", "1\u00a02")(folder)
    _set_field("market_time.csv", 6, "минут", "it's " + "x" * 100_000)(folder)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, dt.date(2027, 2, 6), data_dir=folder)
    message = str(caught.value)
    assert message.endswith("at line 5, 6 (values: '1\\xa02', 'it's " + "x" * 74 + "… (100005 chars)')"), message


# ------------------------------------------------------------------ fast path vs checked path
def test_the_real_export_takes_the_typed_copy_and_loads_the_rows_of_the_checked_path(
    engine, real_data_dir, caplog, monkeypatch
):
    """Every file of the real export is COPYed typed straight into its partition (money.csv's
    decimal commas included), and the partitions hold exactly what the checked path stores."""
    import logging

    from etl.ingest import typed_copy

    def stored(snapshot_date: dt.date) -> dict[str, list]:  # every row as loaded, without the date and time
        return {
            table: [
                r["j"]
                for r in rows(
                    engine,
                    f"SELECT (to_jsonb(t) - ARRAY['snapshot_date', 'loaded_at'])::text AS j FROM {table} t "
                    "WHERE snapshot_date = :d ORDER BY 1",
                    d=snapshot_date,
                )
            ]
            for table in ("raw.market_file", "raw.market_money", "raw.market_time", "raw.money")
        }

    fast_day, checked_day = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
    with caplog.at_level(logging.INFO, logger="etl.ingest.loader"):
        ingest.load_raw(engine, fast_day, data_dir=real_data_dir)
    assert "checked path" not in caplog.text
    monkeypatch.setattr(typed_copy, "copy_into_partition", lambda *args, **kwargs: None)
    with caplog.at_level(logging.INFO, logger="etl.ingest.loader"):
        ingest.load_raw(engine, checked_day, data_dir=real_data_dir)
    assert caplog.text.count("checked path") == 4
    fast, checked = stored(fast_day), stored(checked_day)
    assert fast == checked and [len(fast[t]) for t in fast] == [1300, 3900, 2600, 1300]


@pytest.mark.parametrize("value", ["1_000", "0x1F"])
def test_an_integer_spelling_postgres_reads_is_refused_as_the_checks_say(value, engine, real_data_dir, tmp_path):
    """PostgreSQL's own integer input reads these; the typed COPY must not let them in."""
    folder = copy_export(real_data_dir, tmp_path / "spelling")
    _set_field("market_time.csv", 5, "минут", value)(folder)
    snapshot_date = dt.date(2027, 3, 3)
    with pytest.raises(LoadError) as caught:
        ingest.load_raw(engine, snapshot_date, data_dir=folder)
    assert (caught.value.file_name, caught.value.column, caught.value.lines) == ("market_time.csv", "минут", [5])
    assert "not a whole number" in str(caught.value)
    assert partitions(engine, snapshot_date) == []
