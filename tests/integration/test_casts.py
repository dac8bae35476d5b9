"""The raw INSERT's one-pass guards refuse exactly what the loader's checks refuse."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from etl.ingest import casts
from etl.warehouse.sources import MARKET_FILE, MARKET_MONEY

pytestmark = pytest.mark.integration

NUMBER_TEXTS = [
    "0",
    "5",
    "-7",
    "+5",
    " 42 ",
    "\t42\n",
    "007",
    "1.5",
    "0,98",
    "5.",
    ".5",
    "-0.0",
    "1e3",
    "1E+2",
    "1e-300",
    "1e-301",
    "9.99e299",
    "1e300",
    "-1e300",
    "0e-99999",
    "1e-99999",
    "1e99999",
    "2e-320",
    "123456789",
    "1234567890",
    "-000000000123456789",
    "+0000000001234567890",
    "123456789012345678",
    "1234567890123456789",
    "1" * 100,
    "1" * 101,
    "0." + "0" * 97 + "1",
    "",
    " ",
    "\u00a0",
    "NaN",
    "Infinity",
    "-inf",
    "0x1F",
    "1_000",
    "1 000",
    "1,000.5",
    "5e",
    "e5",
    "--5",
    "5-",
    "１２",
    None,
]
TEXTS = ["премиум", " стандарт ", "", " ", "\t", "\u00a0", None, "да"]
COLUMNS = {
    "customer_id (bigint)": MARKET_FILE.columns[0],
    "marketing_current_month (integer)": MARKET_FILE.by_header()["Маркет_актив_тек_мес"],
    "revenue (double)": MARKET_MONEY.columns[2],
    "service_type (text)": MARKET_FILE.by_header()["Тип сервиса"],
    "activity (nullable text)": MARKET_FILE.by_header()["Покупательская активность"],
}


@pytest.mark.parametrize("column", list(COLUMNS.values()), ids=list(COLUMNS))
def test_guard_refuses_exactly_what_the_checks_refuse(engine, column):
    """Refused = the guard gives NULL or its cast fails: either makes the raw INSERT fail."""
    values = TEXTS if column.kind == "text" else NUMBER_TEXTS
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        conn.execute(sa.text(f'CREATE TEMP TABLE probe ("{column.name}" text) ON COMMIT DROP'))
        checks = [predicate.as_string(raw) for predicate, _ in casts.checks(column)] or ["false"]
        guard = casts.converted(column).as_string(raw)
        for value in values:
            conn.execute(sa.text("TRUNCATE probe"))
            conn.execute(sa.text("INSERT INTO probe VALUES (:v)"), {"v": value})
            refused_by_checks = conn.execute(
                sa.text(f"SELECT coalesce({' OR '.join(checks)}, false) FROM probe")
            ).scalar()
            savepoint = conn.begin_nested()
            try:
                refused_by_guard = conn.execute(sa.text(f"SELECT ({guard}) IS NULL FROM probe")).scalar()
                savepoint.commit()
            except sa.exc.DataError:
                savepoint.rollback()
                refused_by_guard = True
            expected = refused_by_checks or (column.nullable and (value is None or not value.strip(" ")))
            assert refused_by_guard == expected, (value, refused_by_checks)


RAW_TYPES = {"text": "text", "float": "double precision"}


@pytest.mark.parametrize("column", list(COLUMNS.values()), ids=list(COLUMNS))
def test_a_typed_copy_accepts_only_what_the_checked_path_stores_the_same(engine, column):
    """The fast path (etl/ingest/typed_copy.py) reads a value with the column type's own input,
    under `casts.typed_check` and the screen for integer spellings; whatever it accepts, the
    checked path must accept from the same text and store as the same value."""
    from etl.ingest.typed_copy import _ScreenedStream

    values = TEXTS if column.kind == "text" else NUMBER_TEXTS
    raw_type = RAW_TYPES.get(column.kind) or ("bigint" if casts.int_digits(column) > 9 else "integer")
    accepted_by_fast_path = 0
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        check = casts.typed_check(column).as_string(raw)
        guard = casts.converted(column).as_string(raw)
        conn.execute(sa.text(f'CREATE TEMP TABLE probe ("{column.name}" text) ON COMMIT DROP'))
        for value in values:
            screen = _ScreenedStream(io.BytesIO((value or "").encode()), decimal_commas=False)
            screen.read()
            savepoint = conn.begin_nested()
            try:  # what COPY does with the text: the type's input function, then the CHECK
                typed = conn.execute(
                    sa.text(f'SELECT CAST(:v AS {raw_type}) AS "{column.name}"'), {"v": value}
                ).scalar()
                fast = conn.execute(
                    sa.text(f'SELECT ({check}) FROM (SELECT CAST(:t AS {raw_type}) AS "{column.name}") s'), {"t": typed}
                ).scalar()
                fast = bool(fast) and not screen.suspect and (typed is not None or column.nullable)
                savepoint.commit()
            except sa.exc.DataError:
                savepoint.rollback()
                fast = False
            if not fast:
                continue
            accepted_by_fast_path += 1
            conn.execute(sa.text("TRUNCATE probe"))
            conn.execute(sa.text("INSERT INTO probe VALUES (:v)"), {"v": value})
            stored = conn.execute(sa.text(f"SELECT {guard} FROM probe")).scalar()  # raises if refused
            assert stored == typed and (stored is not None or column.nullable), (value, stored, typed)
    assert accepted_by_fast_path >= 3  # the common spellings take the fast path


@pytest.mark.parametrize("text", ["1_000", "0x1F", "-0o17", "0B101", "12_3"])
def test_the_screen_catches_integer_spellings_the_checks_refuse(text):
    from etl.ingest.typed_copy import _ScreenedStream

    body = f"215348,{text},5\n".encode()
    for chunk_size in (1, 3, len(body)):  # the pair may straddle two reads
        screen = _ScreenedStream(io.BytesIO(body), decimal_commas=False)
        while screen.read(chunk_size):
            pass
        assert screen.suspect, (text, chunk_size)
    plain = _ScreenedStream(io.BytesIO("215348,текущий_месяц,100.5\n".encode()), decimal_commas=False)
    plain.read()
    assert not plain.suspect
