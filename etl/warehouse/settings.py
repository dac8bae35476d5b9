"""Configuration, read only from the environment: one typed `Settings`, read once per process.

Each field is one environment variable of the same name; the names are a contract (operators,
docker-compose.yml and the README's "Configuration" table use them; tests/unit/test_settings.py
checks the table lists exactly these fields). `current()` reads and checks the whole environment
on first use and keeps the result, since a process's environment does not change under it: a
bad value stops the first step that reads any setting (`make run` before it starts), as a
`ConfigError` naming the variable and the value. Only the settings that report a failure stay
readable then (`reporting()`). A process that changes its own environment (a test, a forked
helper) calls `current.cache_clear()`; tests/conftest.py does so around every test and every
monkeypatched variable. DATA_DIR is resolved per snapshot by export_dir.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DATE_HINT = "use YYYY-MM-DD, e.g. 2026-11-27"


class ConfigError(ValueError):
    """A setting has a value the job cannot use; the message names the setting."""


def _to_date(value: object) -> dt.date:
    """A date from YYYY-MM-DD text (or a date); ValueError otherwise. fromisoformat, not
    pydantic's date parsing, which would read a number as a Unix timestamp."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def _iso_date(value: Any) -> dt.date:
    try:
        return _to_date(value)
    except ValueError:
        raise PydanticCustomError("iso_date", f"is not a date: {DATE_HINT}") from None


def _offer_effects(value: Any) -> Any:
    """`segment=0.15,other=0` → {"segment": 0.15, "other": 0.0}."""
    if not isinstance(value, str):
        return value
    try:
        pairs = [item.split("=") for item in value.split(",") if item.strip()]
        return {name.strip(): float(effect) for name, effect in pairs}
    except ValueError:
        raise PydanticCustomError("offer_effects", "is not like 'segment=0.15,other=0'") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# NoDecode: the variable is `segment=0.15,…` text, not the JSON pydantic-settings expects of a dict
OfferEffects = Annotated[dict[str, float], NoDecode, BeforeValidator(_offer_effects)]


class Reporting(BaseSettings):
    """The settings that report a failure, readable while another setting is bad (`reporting()`):
    the folder of `make run`'s error log, and the alerts, whose deadlines are read when Airflow
    parses the DAGs (a bad value elsewhere fails a task, which alerts, instead of hiding the DAGs)."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, frozen=True)

    LOCAL_DIR: Path = Field(
        PROJECT_ROOT / ".local",
        description=("git-ignored working folder: embedded Postgres data, generated data, models, reports, logs"),
    )
    CHURN_ALERT_WEBHOOK: str | None = Field(
        None,
        repr=False,
        description=("URL that receives a JSON POST per failed task and missed deadline; unset: alerts off"),
    )
    CHURN_DEADLINES: Literal["on", "off"] = Field(
        "on",
        description=(
            "the DAGs' Deadline Alerts; `make run` and the tests turn them off (`airflow dags test` cannot finish them)"
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        # The environment only (keyword arguments for tests): no .env or secrets files
        return init_settings, env_settings


class Settings(Reporting):
    """Every environment variable the job reads. Unset or empty means the default."""

    # --- the warehouse and the files of a run ---
    WAREHOUSE_URL: str | None = Field(
        None,
        repr=False,
        description=("SQLAlchemy/libpq URL of the warehouse; unset: the embedded Postgres under LOCAL_DIR/pg"),
    )
    WAREHOUSE_TCP_PORT: str | None = Field(
        None,
        description=(
            "the embedded server also listens on 127.0.0.1:<port> (BI logins); `off`: socket only; unset: keep "
            "the data directory's choice. Read by etl.warehouse.access.tcp_port_setting, which checks it"
        ),
    )
    DATA_DIR: str | None = Field(
        None,
        description=(
            "folder of one snapshot's four CSVs; `{snapshot_date}` in it becomes the run's date; "
            "unset: `make run` generates a synthetic snapshot"
        ),
    )
    SNAPSHOT_DATE: IsoDate | None = Field(None, description="the snapshot `make run` loads and scores; unset: today")
    MODEL_STORE_DIR: Path = Field(
        default_factory=lambda data: data["LOCAL_DIR"] / "models",
        description="joblib artifacts of registered models; default LOCAL_DIR/models",
    )
    REPORTS_DIR: Path = Field(
        default_factory=lambda data: data["LOCAL_DIR"] / "reports",
        description="Data Docs and model cards (HTML); default LOCAL_DIR/reports",
    )
    SEGMENT_RULES: Path = Field(PROJECT_ROOT / "config" / "segments.yaml", description="the segment / offer rule file")

    # --- `make run`'s synthetic data ---
    SYNTH_CUSTOMERS: int = Field(2000, description="customers in `make run`'s synthetic snapshot")
    SYNTH_SEED: int = Field(7, description="seed of `make run`'s synthetic snapshot")
    SNAPSHOTS: int = Field(1, ge=1, description="nights `make run` runs on a synthetic history, a month apart")
    # The segments' part of the history's true offer effects: absolute reduction of a treated
    # customer's probability of «Снизилась» over the three months after the offer; each
    # customer's own part is added (etl/synth/truth.py, job/local/synthetic_history.py).
    SYNTH_OFFER_EFFECTS: OfferEffects = Field(
        {"high_risk_high_profit": 0.15, "abandoned_cart": 0.10, "promo_dependent": 0.10},
        description="the segments' part of the history's true offer effects (`segment=0.15,other=0`); other segments 0",
    )
    SYNTH_MECHANISM_CHANGE_AT: int | None = Field(
        None, description=("night k (0-based) from which the history's labels follow another mechanism; unset: never")
    )

    # --- training and scoring ---
    CHURN_SEARCH_BUDGET: Literal["full", "large", "reduced"] = Field(
        "full", description="hyperparameter search budget of churn_retrain (ml.candidates.BUDGETS)"
    )
    CHURN_N_JOBS: int = Field(1, description="worker processes per candidate-family task (at least 1)")
    # The full budget fits each family ~100 times, so its cost grows with the rows while ROC-AUC
    # stops improving long before (ml/README.md, "Training at scale").
    CHURN_TRAINING_MAX_ROWS: int = Field(
        10_000, description=("training rows per retraining (at least 100); above, a stratified, grouped sample")
    )
    CHURN_SCORE_CHUNK_SIZE: int = Field(
        50_000, description="customers per scoring chunk (at least 1; sets scoring memory)"
    )
    CHURN_SCORE_SHARDS: int = Field(2, description="scoring shards per snapshot in churn_score (at least 1)")
    CHURN_WAREHOUSE_SLOTS: int = Field(
        4, description=("size of the Airflow pool `warehouse`: how many warehouse-heavy tasks run at once (at least 1)")
    )

    # --- operations ---
    CHURN_CLAIM_TTL_MINUTES: float = Field(
        30, description=("minutes a killed run's claim on a snapshot date blocks other runs of that date")
    )
    CHURN_CLAIM_HOLDER: Literal["task", "run"] = Field(
        "task",
        description=(
            "what holds a snapshot claim: `task` (one step's process of a scheduler run) or `run` (a process "
            "that runs the whole run, as make run's `airflow dags test`: its claim is taken over once it is gone)"
        ),
    )
    AIRFLOW_PORT: int | None = Field(
        None, description=("API server / UI port of `make airflow`; unset: 8080 when free, else a free port")
    )

    # --- benchmarks ---
    BENCH_CUSTOMERS: int | None = Field(
        None, description=("customers in a benchmark's synthetic snapshot; unset: the benchmark's own size")
    )
    BENCH_REAL_EXPORT: Path = Field(
        PROJECT_ROOT.parent / "shared" / "data" / "raw",
        description=("the real export whose full-search quality `make bench-retrain` checks (when present)"),
    )


# How a failed check reads after "NAME='value' "; pydantic's own wording for the rest.
_REASONS: dict[str, str] = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "greater_than_equal": "must be at least {ge}",
    "literal_error": "is not one of {expected}",
}


def _message(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        if item["type"] == "default_factory_not_called":
            continue  # a folder under LOCAL_DIR, left out only because another value is bad
        name = item["loc"][0] if item["loc"] else "settings"
        template = _REASONS.get(item["type"])
        reason = template.format(**item.get("ctx", {})) if template else item["msg"]
        problems.append(f"{name}={item['input']!r} {reason}")
    return "; ".join(problems)


def _read(model: type[Reporting]) -> Any:
    try:
        return model()
    except ValidationError as error:
        raise ConfigError(_message(error)) from None
    except SettingsError as error:  # a variable pydantic-settings could not even decode
        raise ConfigError(str(error)) from None


@functools.cache
def current() -> Settings:
    """The settings of this process, read from the environment on first use (see the module)."""
    return _read(Settings)


def reporting() -> Reporting:
    """`current()`, or while another setting is bad, the settings that report it (`Reporting`)."""
    try:
        return current()
    except ConfigError:
        return _read(Reporting)


def default(name: str) -> Any:
    """The default of the setting `name` whatever the environment says (e.g. the shipped rule file)."""
    return Settings.model_fields[name].get_default(call_default_factory=False)


def local_dir() -> Path:
    """Git-ignored working folder: embedded Postgres data, generated data, models, reports, and
    the log that reports a bad setting (so read while another setting is bad)."""
    path = reporting().LOCAL_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_url_from_env() -> str | None:
    """`WAREHOUSE_URL` if set; unset means the embedded Postgres (see etl.warehouse)."""
    return current().WAREHOUSE_URL


def model_store_dir() -> Path:
    path = current().MODEL_STORE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_dir(snapshot_date: dt.date) -> Path:
    """The folder of a snapshot's four CSV exports: `DATA_DIR`, where a `{snapshot_date}`
    placeholder is replaced by the ISO date."""
    value = current().DATA_DIR
    if not value:
        raise ConfigError("DATA_DIR is not set: point it at the folder with the four CSV exports")
    return Path(value.replace("{snapshot_date}", snapshot_date.isoformat()))


def reports_dir() -> Path:
    """Data Docs, model cards and other HTML a person opens."""
    path = current().REPORTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def parse_date(value: object, name: str) -> dt.date:
    """A calendar date from YYYY-MM-DD text (or a date); `name` says where the value came from."""
    try:
        return _to_date(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a date: {DATE_HINT}") from None


def snapshot_date_from_env() -> dt.date:
    """`SNAPSHOT_DATE` (YYYY-MM-DD) for `make run`; today when unset (read at each call: a
    long-lived process may pass midnight)."""
    return current().SNAPSHOT_DATE or dt.date.today()
