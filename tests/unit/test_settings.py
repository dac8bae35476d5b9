"""etl/warehouse/settings.py: one typed object for every environment variable the job reads.

The README documents them in a table, found by this convention: the first Markdown table after
the heading whose text starts with "Configuration" (any level, e.g. `## Configuration
(environment only)`); after its header row and `|---|` row, every row starts with the
variable's name in backticks — `| `NAME` | default | meaning |` — or with several, comma
separated, when they share a row (`| `SYNTH_CUSTOMERS`, `SYNTH_SEED` | …`). Those names must be
exactly the fields of `Settings` plus the variables other programs read (READ_BY_OTHERS), so a
setting added without a row, or a row left for a variable that no longer exists, fails here.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from pathlib import Path

import pytest

from etl.warehouse import settings

ROOT = Path(__file__).resolve().parents[2]
FIELDS = set(settings.Settings.model_fields)
# Documented beside the job's settings, but read by other programs: not fields of Settings.
READ_BY_OTHERS = {
    "AIRFLOW_HOME": "Airflow's own; `make run` and `make airflow` set it for the processes they start",
    "TEST_WORKERS": "the Makefile's (pytest-xdist workers of make test)",
}
_HEADING = re.compile(r"^#+\s+Configuration\b")
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def documented_variables(readme: str) -> set[str]:
    """The names in the first column of the first table after the "Configuration" heading."""
    lines = readme.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADING.match(line)), None)
    assert start is not None, "README.md has no heading 'Configuration'"
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line)
        elif table or line.startswith("#"):
            break
    assert len(table) > 2, "no table under the README's 'Configuration' heading"
    names: set[str] = set()
    for row in table[2:]:  # after the header row and the |---| row
        first_cell = row.split("|")[1]
        found = _NAME.findall(first_cell)
        assert found, f"a configuration row that names no `VARIABLE`: {row}"
        names.update(found)
    return names


@pytest.fixture()
def clean_env(monkeypatch):
    """No setting in the environment (tests/conftest.py sets some for the whole session)."""
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_readme_table_lists_exactly_the_settings():
    documented = documented_variables((ROOT / "README.md").read_text(encoding="utf-8"))
    assert not FIELDS & set(READ_BY_OTHERS), "a setting of the job is listed as read by another program"
    assert sorted(FIELDS - documented) == [], "settings missing from the README's Configuration table"
    assert sorted(documented - FIELDS - set(READ_BY_OTHERS)) == [], "documented variables that are no setting"
    assert sorted(set(READ_BY_OTHERS) - documented) == [], "READ_BY_OTHERS names a variable the README dropped"


def test_the_table_is_found_by_its_heading_and_rows():
    readme = (
        "intro\n\n## Configuration (env)\n\ntext\n\n| variable | default |\n|---|---|\n"
        "| `A_B` | 1 |\n| `C`, `D_2` | x `NOT_A_NAME` |\n\n| `LATER_TABLE` | |\n"
    )
    assert documented_variables(readme) == {"A_B", "C", "D_2"}


def test_every_setting_says_what_it_is():
    undescribed = [
        name for name, field in settings.Settings.model_fields.items() if not (field.description or "").strip()
    ]
    assert undescribed == []


def test_defaults(clean_env):
    current = settings.current()
    assert current.LOCAL_DIR == settings.PROJECT_ROOT / ".local"
    assert current.MODEL_STORE_DIR == current.LOCAL_DIR / "models"
    assert current.REPORTS_DIR == current.LOCAL_DIR / "reports"
    assert current.SEGMENT_RULES == settings.PROJECT_ROOT / "config" / "segments.yaml"
    assert (current.WAREHOUSE_URL, current.DATA_DIR, current.SNAPSHOT_DATE, current.AIRFLOW_PORT) == (
        None,
        None,
        None,
        None,
    )
    assert (current.SYNTH_CUSTOMERS, current.SYNTH_SEED, current.SNAPSHOTS) == (2000, 7, 1)
    assert (current.CHURN_SCORE_SHARDS, current.CHURN_SCORE_CHUNK_SIZE, current.CHURN_N_JOBS) == (2, 50_000, 1)
    assert (current.CHURN_SEARCH_BUDGET, current.CHURN_DEADLINES, current.CHURN_ALERT_WEBHOOK) == ("full", "on", None)
    assert current.CHURN_TRAINING_MAX_ROWS == 10_000 and current.CHURN_CLAIM_TTL_MINUTES == 30
    assert current.SYNTH_OFFER_EFFECTS == {
        "high_risk_high_profit": 0.15,
        "abandoned_cart": 0.10,
        "promo_dependent": 0.10,
    }
    assert settings.snapshot_date_from_env() == dt.date.today()


def test_values_are_typed(clean_env, tmp_path):
    values = {
        "LOCAL_DIR": str(tmp_path),
        "SNAPSHOT_DATE": "2026-11-27",
        "CHURN_SCORE_SHARDS": "4",
        "CHURN_CLAIM_TTL_MINUTES": "0.5",
        "SYNTH_OFFER_EFFECTS": "kids_goods=0.2, cosmetics=0",
        "CHURN_DEADLINES": "off",
        "SYNTH_MECHANISM_CHANGE_AT": "3",
        "DATA_DIR": "/exports/{snapshot_date}",
    }
    for name, value in values.items():
        clean_env.setenv(name, value)
    current = settings.current()
    assert current.LOCAL_DIR == tmp_path and current.MODEL_STORE_DIR == tmp_path / "models"
    assert current.SNAPSHOT_DATE == dt.date(2026, 11, 27) and current.CHURN_SCORE_SHARDS == 4
    assert current.CHURN_CLAIM_TTL_MINUTES == 0.5 and current.SYNTH_MECHANISM_CHANGE_AT == 3
    assert current.SYNTH_OFFER_EFFECTS == {"kids_goods": 0.2, "cosmetics": 0.0}
    assert current.CHURN_DEADLINES == "off" and current.DATA_DIR == "/exports/{snapshot_date}"


def test_empty_means_unset(clean_env):
    for name in ("CHURN_SCORE_SHARDS", "SNAPSHOT_DATE", "LOCAL_DIR", "WAREHOUSE_URL"):
        clean_env.setenv(name, "")
    current = settings.current()
    assert current.CHURN_SCORE_SHARDS == 2 and current.SNAPSHOT_DATE is None
    assert current.LOCAL_DIR == settings.PROJECT_ROOT / ".local" and current.WAREHOUSE_URL is None


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("CHURN_SCORE_SHARDS", "two", "CHURN_SCORE_SHARDS='two' is not a whole number"),
        ("CHURN_SCORE_CHUNK_SIZE", "1.5", "CHURN_SCORE_CHUNK_SIZE='1.5' is not a whole number"),
        ("SNAPSHOT_DATE", "27.11.2026", "SNAPSHOT_DATE='27.11.2026' is not a date: use YYYY-MM-DD, e.g. 2026-11-27"),
        ("SNAPSHOT_DATE", "1764201600", "SNAPSHOT_DATE='1764201600' is not a date"),  # no Unix timestamps
        ("SNAPSHOTS", "0", "SNAPSHOTS='0' must be at least 1"),
        ("CHURN_CLAIM_TTL_MINUTES", "half an hour", "CHURN_CLAIM_TTL_MINUTES='half an hour' is not a number"),
        ("CHURN_SEARCH_BUDGET", "huge", "CHURN_SEARCH_BUDGET='huge' is not one of 'full', 'large' or 'reduced'"),
        ("CHURN_DEADLINES", "maybe", "CHURN_DEADLINES='maybe' is not one of 'on' or 'off'"),
        ("SYNTH_OFFER_EFFECTS", "kids_goods", "SYNTH_OFFER_EFFECTS='kids_goods' is not like 'segment=0.15,other=0'"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_value(clean_env, name, value, message):
    clean_env.setenv(name, value)
    with pytest.raises(settings.ConfigError) as raised:
        settings.current()
    assert str(raised.value).startswith(message), str(raised.value)


def test_every_bad_value_is_named_at_once(clean_env):
    clean_env.setenv("CHURN_N_JOBS", "many")
    clean_env.setenv("SNAPSHOT_DATE", "tomorrow")
    with pytest.raises(settings.ConfigError) as raised:
        settings.current()
    assert "CHURN_N_JOBS='many'" in str(raised.value) and "SNAPSHOT_DATE='tomorrow'" in str(raised.value)
    assert "MODEL_STORE_DIR" not in str(raised.value)  # left out only because of the others


def test_read_once_until_the_cache_is_cleared(clean_env):
    first = settings.current()
    assert settings.current() is first
    with pytest.MonkeyPatch.context() as plain:  # pytest's own: the settings are not told
        plain.setenv("CHURN_SCORE_SHARDS", "5")
        assert settings.current().CHURN_SCORE_SHARDS == 2
        settings.current.cache_clear()
        assert settings.current().CHURN_SCORE_SHARDS == 5
    settings.current.cache_clear()
    assert settings.current().CHURN_SCORE_SHARDS == 2


def test_the_monkeypatch_fixture_rereads_the_settings(clean_env):
    assert settings.current().CHURN_N_JOBS == 1
    clean_env.setenv("CHURN_N_JOBS", "3")
    assert settings.current().CHURN_N_JOBS == 3
    clean_env.delenv("CHURN_N_JOBS")
    assert settings.current().CHURN_N_JOBS == 1


def test_a_bad_setting_leaves_what_reports_it_readable(clean_env, tmp_path):
    clean_env.setenv("CHURN_SCORE_SHARDS", "two")
    clean_env.setenv("LOCAL_DIR", str(tmp_path / "local"))
    clean_env.setenv("CHURN_ALERT_WEBHOOK", "http://127.0.0.1:1/hook")
    with pytest.raises(settings.ConfigError):
        settings.current()
    assert settings.local_dir() == tmp_path / "local" and (tmp_path / "local").is_dir()
    assert settings.reporting().CHURN_ALERT_WEBHOOK == "http://127.0.0.1:1/hook"


def test_secrets_stay_out_of_the_repr(clean_env):
    clean_env.setenv("WAREHOUSE_URL", "postgresql://churn:s3cret@db/churn")
    clean_env.setenv("CHURN_ALERT_WEBHOOK", "https://hooks.example/T0/s3cret")
    assert "s3cret" not in repr(settings.current())


def test_the_budget_names_are_the_candidates_budgets():
    from ml import candidates

    annotation = settings.Settings.model_fields["CHURN_SEARCH_BUDGET"].annotation
    assert set(typing.get_args(annotation)) == set(candidates.BUDGETS)
