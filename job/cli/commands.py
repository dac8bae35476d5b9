"""`churn`: the operator's command line for the warehouse the job writes (WAREHOUSE_URL, else the
embedded server), usable without a scheduler.

    churn migrate                 bring the warehouse schema to this code's revision (before → after)
    churn status                  champion, newest gates, scored dates, claims held
    churn rescore DATE            score DATE again with the champion and publish it
    churn backfill FROM TO        ingest, retrain when due, score every date FROM..TO (DATA_DIR per date)
    churn rollback --reason TEXT  re-promote the previous champion (recorded: who, why)
    churn reports                 where the Data Docs and the champion's model card are
    churn bi-login NAME           a read-only BI login and its connection block (password once)

The commands execute the DAGs' own pipelines (job/pipelines), under the same per-date claims,
so a command and a running DAG never write one date at the same time.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Any

import click

from etl.warehouse import settings


def _engine():
    """The warehouse, checked to be at this code's schema revision (only `churn migrate` changes it)."""
    from etl.warehouse import db, server

    engine = db.get_engine(server.server_url())
    _fail_clearly(lambda: db.check_migrated(engine))
    return engine


def _date(_ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    try:
        return settings.parse_date(value, param.metavar or param.name.upper())
    except settings.ConfigError as error:
        raise click.BadParameter(str(error)) from None


@click.group(
    help="Operate the churn job's warehouse (WAREHOUSE_URL, else the embedded server): "
    "migrate, status, rescore, backfill, rollback, reports, bi-login."
)
def main() -> None:
    """The `churn` command group."""


@main.command()
def migrate() -> None:
    """Bring the warehouse schema to this code's revision and print it before → after: an empty
    database is built, a warehouse built before revisions is taken from the baseline, each newer
    revision runs once. `make run` and `make airflow` run it first; nightly tasks never do."""
    from etl.warehouse import db, server

    engine = db.get_engine(server.server_url())
    before = db.schema_revision(engine)
    after = _fail_clearly(lambda: db.migrate(engine))
    click.echo(
        f"warehouse schema revision: {before or 'none'} → {after}" + (" (already current)" if before == after else "")
    )


@main.command()
@click.option("--dates", default=10, show_default=True, help="how many scored dates to list")
def status(dates: int) -> None:
    """Champion, newest gate of each layer, newest scored dates, the claims held now and the
    alerts the webhook did not take."""
    from etl.ops import claims
    from etl.warehouse import db
    from ml import registry

    engine = _engine()
    champion = registry.describe_champion(engine)
    click.echo(
        f"champion: {champion['model_version']} ({champion['algorithm']}), CV ROC-AUC "
        f"{champion['cv_roc_auc_mean']:.3f}, trained on {champion['training_snapshot']}"
        if champion
        else "champion: none (run churn_retrain)"
    )
    with engine.connect() as conn:
        gates = db.run_sql(conn, "dq", "select_newest_gates").mappings().all()
        scored = db.run_sql(conn, "status", "select_scored_dates", {"limit": dates}).mappings().all()
        undelivered = db.run_sql(conn, "ops", "select_undelivered_alerts", {"limit": dates}).mappings().all()
    for gate in gates:
        verdict = "passed" if gate["success"] else "FAILED"
        click.echo(
            f"gate {gate['layer']}: {verdict} for {gate['snapshot_date']} ({gate['critical_failed']} critical, "
            f"{gate['warnings_failed']} warnings) at {gate['finished_at']:%Y-%m-%d %H:%M}"
        )
    for row in scored:
        click.echo(
            f"scored {row['score_date']}: {row['customers']} customers by {row['model_versions']}"
            f" at {row['scored_at']:%Y-%m-%d %H:%M}"
        )
    if not scored:
        click.echo("scored: no date yet")
    for claim in (c for c in claims.list_claims(engine) if c["live"]):
        click.echo(
            f"claim {claim['pipeline']} {claim['snapshot_date']}: {claim['run_id']} ({claim['step']}), "
            f"expires {claim['expires_at']:%Y-%m-%d %H:%M}"
        )
    for alert in undelivered:  # the webhook was down or alerts are off: the record is all there is
        click.echo(
            f"alert not delivered ({alert['attempts']} attempts, {alert['last_error']}) "
            f"at {alert['raised_at']:%Y-%m-%d %H:%M}: {alert['text']}"
        )


@main.command()
@click.argument("snapshot_date", metavar="DATE", callback=_date)
def rescore(snapshot_date: dt.date) -> None:
    """Score DATE's published features again with the champion, gate and publish the scores."""
    published = _score(_engine(), snapshot_date, _run_id("rescore"))
    click.echo(f"{published['score_date']}: {published['rows']} scores published by {published['model_version']}")


@main.command()
@click.argument("first", metavar="FROM", callback=_date)
@click.argument("last", metavar="TO", callback=_date)
def backfill(first: dt.date, last: dt.date) -> None:
    """Ingest, retrain when the retrain rule says so, and score every date FROM..TO (inclusive)
    from DATA_DIR ({snapshot_date} in it is replaced by each date), as the scheduler would;
    stops at the first date that fails, the dates before it stay done."""
    from job import pipelines
    from ml import training

    if last < first:
        raise click.BadParameter(f"TO {last} is before FROM {first}")
    engine = _engine()
    for offset in range((last - first).days + 1):
        snapshot_date = first + dt.timedelta(days=offset)
        run = _run_id("backfill")
        _fail_clearly(lambda: pipelines.execute(pipelines.INGEST, engine, snapshot_date, run=run), snapshot_date)
        reason = training.retrain_reason(engine, snapshot_date)
        if reason:
            click.echo(f"{snapshot_date}: retraining ({reason})")
            outcome = _fail_clearly(
                lambda: pipelines.execute(pipelines.RETRAIN, engine, snapshot_date, run=run), snapshot_date
            )
            gate = outcome["apply_promotion_gate"]
            click.echo(
                f"{snapshot_date}: {gate['model_version']} {'promoted' if gate['promote'] else 'rejected'}: {gate['reason']}"
            )
        published = _score(engine, snapshot_date, run)
        click.echo(f"{snapshot_date}: ingested, {published['rows']} scores published by {published['model_version']}")


@main.command()
@click.option("--reason", required=True, help="why the current champion must go (recorded)")
@click.option("--by", "changed_by", default=getpass.getuser, show_default="the current user", help="who rolls back")
def rollback(reason: str, changed_by: str) -> None:
    """Re-promote the previous champion; the current one is retired. The next scoring run uses it."""
    from ml import registry

    outcome = _fail_clearly(lambda: registry.roll_back(_engine(), changed_by, reason))
    click.echo(f"champion is {outcome['champion']} again; {outcome['retired']} retired ({reason}, by {changed_by})")


@main.command()
def reports() -> None:
    """Where the HTML reports are: GX Data Docs and the champion's model card."""
    from etl import data_docs
    from ml import registry

    click.echo(f"Data Docs:  {data_docs.data_docs_dir() / 'index.html'}")
    champion = registry.describe_champion(_engine())
    click.echo(f"model card: {champion['model_card_path']}" if champion else "model card: no champion yet")


@main.command("bi-login")
@click.argument("name")
@click.option("--host", help="host BI connects to, if not the warehouse URL's (e.g. a published port)")
@click.option("--port", type=int, help="port BI connects to, if not the warehouse URL's")
def bi_login(name: str, host: str | None, port: int | None) -> None:
    """Create the read-only BI login NAME (or give it a new password) and print its connection
    block once: host, port, database, user, password, JDBC and SQLAlchemy URLs."""
    from etl.warehouse import access, bi_logins, server

    endpoint = _fail_clearly(lambda: server.bi_endpoint(host, port))
    with _engine().begin() as conn:
        password, created = _fail_clearly(lambda: bi_logins.create_bi_login(conn, name))
    click.echo(access.BiLogin(*endpoint, name, password, created).connection_block())


def _score(engine: Any, snapshot_date: dt.date, run: str) -> dict[str, Any]:
    """churn_score's pipelines for one date: score (sharded) → gate → publish, then settle;
    the claims of `run` are given up at the end, whether a step failed or not."""
    from job import pipelines

    scored = _fail_clearly(lambda: pipelines.execute(pipelines.SCORE, engine, snapshot_date, run=run), snapshot_date)
    _fail_clearly(lambda: pipelines.execute(pipelines.SETTLE, engine, snapshot_date, run=run), snapshot_date)
    return scored["publish"]


def _fail_clearly(action: Any, snapshot_date: dt.date | None = None) -> Any:
    """Our own refusals (bad data, failed gate, busy date, no champion) as one line, exit 1."""
    try:
        return action()
    except (LookupError, RuntimeError, ValueError) as error:
        where = f"{snapshot_date}: " if snapshot_date else ""
        raise click.ClickException(f"{where}{type(error).__name__}: {str(error).strip().splitlines()[0]}") from error


def _run_id(command: str) -> str:
    import uuid

    return f"churn-cli/{command}/{uuid.uuid4().hex[:12]}"
