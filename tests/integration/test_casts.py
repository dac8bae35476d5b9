"""The raw INSERT's one-pass guards refuse exactly what the loader's checks refuse."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from etl.ingest import casts
from etl.warehouse.sources import MARKET_FILE, MARKET_MONEY

pytestmark = pytest.mark.integration

NUMBER_TEXTS = [
    "0", "5", "-7", "+5", " 42 ", "\t42\n", "007", "1.5", "0,98", "5.", ".5", "-0.0", "1e3", "1E+2",
    "1e-300", "1e-301", "9.99e299", "1e300", "-1e300", "0e-99999", "1e-99999", "1e99999", "2e-320",
    "123456789", "1234567890", "-000000000123456789", "+0000000001234567890",
    "123456789012345678", "1234567890123456789", "1" * 100, "1" * 101, "0." + "0" * 97 + "1",
    "", " ", "\u00a0", "NaN", "Infinity", "-inf", "0x1F", "1_000", "1 000", "1,000.5", "5e", "e5",
    "--5", "5-", "１２", None,
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
            refused_by_checks = conn.execute(sa.text(f'SELECT coalesce({" OR ".join(checks)}, false) FROM probe')).scalar()
            savepoint = conn.begin_nested()
            try:
                refused_by_guard = conn.execute(sa.text(f"SELECT ({guard}) IS NULL FROM probe")).scalar()
                savepoint.commit()
            except sa.exc.DataError:
                savepoint.rollback()
                refused_by_guard = True
            expected = refused_by_checks or (column.nullable and (value is None or not value.strip(" ")))
            assert refused_by_guard == expected, (value, refused_by_checks)
