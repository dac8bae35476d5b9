"""One run at a time per pipeline and snapshot date.

Why: the steps of a run are separate transactions (separate Airflow tasks, even separate
machines), so a second run of the same date could interleave with the first — delete what the
first just built, or publish an empty staged batch. Each step therefore calls `hold` inside its own
transaction: an advisory lock serialises it against every other step of that pipeline and date,
and the claim row in `ops.snapshot_claims` says which run owns the date. A step of another run
is refused with `SnapshotBusy`, naming the run that holds the date; a retry of the same run
(same run id) goes on. The last step releases the claim; a failure callback releases it too, and
a killed run's claim expires after `CHURN_CLAIM_TTL_MINUTES` (default 30) — or an operator clears
it: `python -m etl.ops.claims clear ingest 2026-11-27`.

A claim whose holder process ran the whole run (`make run`'s `airflow dags test`, the CLI and
every `job.pipelines.execute`: `whole_run()` or CHURN_CLAIM_HOLDER=run) is taken over at once,
and the take-over logged, when that process is provably gone: same host, and its pid names no
process or one started at another time (a reused pid). A scheduler task's process ends after
each step of a live run, so its process says nothing; instead, a step running under Airflow asks
Airflow the holder run's state (`asking_run_state`), and a run Airflow reports finished (success or
failed: killed, marked failed, its failure callback lost) gives its claim up at once too. When
nobody can say, the claim stands until it expires.

`run=None` (a script or test calling one step) claims nothing across steps: the step still waits
for other steps of the date and is refused while another run's claim is live.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import os
import socket
import sys
import uuid
from typing import Any, Callable, Iterator, Literal

import psutil
import sqlalchemy as sa

from etl.warehouse import db, settings

log = logging.getLogger(__name__)
Pipeline = Literal["ingest", "score"]
_WHOLE_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("whole_run", default=False)
RunState = Callable[[str], "str | None"]  # a run label → the orchestrator's state of that run, None when unknown
_RUN_STATE: contextvars.ContextVar[RunState | None] = contextvars.ContextVar("run_state", default=None)
FINISHED = frozenset({"success", "failed"})
LOCK_CLASSES: dict[str, int] = {"ingest": 727101, "score": 727102}


class SnapshotBusy(db.TransientError):
    """Another run holds the date. Transient: it heals when that run ends or its claim expires."""


def ttl_seconds() -> int:
    return int(settings.current().CHURN_CLAIM_TTL_MINUTES * 60)


def script_run_id() -> str:
    """A run id for a whole run started outside Airflow (`job.pipelines.execute`, the CLI)."""
    return f"script/{uuid.uuid4().hex[:12]}"


def hold(conn: sa.Connection, pipeline: Pipeline, snapshot_date: dt.date, run: str | None, step: str) -> None:
    """Inside the caller's transaction: wait for other steps of this date, then claim it for `run`.

    Raises `SnapshotBusy` when another run holds a live claim on the date.
    """
    params = {"pipeline": pipeline, "snapshot_date": snapshot_date}
    db.run_sql(conn, "ops", "lock_snapshot", {"lock_class": LOCK_CLASSES[pipeline], **params})
    claim = db.run_sql(conn, "ops", "select_snapshot_claim", params).mappings().first()
    if claim is not None and claim["live"] and claim["run_id"] != run:
        gone = holder_gone(claim)
        if gone is None:
            raise SnapshotBusy(busy_message(pipeline, snapshot_date, claim, step))
        log.warning("taking over the claim of run %s on %s %s: %s", claim["run_id"], pipeline, snapshot_date, gone)
    if run is not None:
        db.run_sql(
            conn,
            "ops",
            "upsert_snapshot_claim",
            {
                **params,
                "run_id": run,
                "step": step,
                "holder": holder(),
                "holder_is_run": holder_is_run(),
                "ttl_seconds": ttl_seconds(),
            },
        )


def release(conn: sa.Connection, pipeline: Pipeline, snapshot_date: dt.date, run: str | None) -> None:
    """End `run`'s claim on the date (in the caller's transaction, e.g. with the publish)."""
    if run is not None:
        db.run_sql(
            conn,
            "ops",
            "delete_snapshot_claims",
            {
                "run_id": run,
                "pipeline": pipeline,
                "snapshot_date": snapshot_date,
            },
        )


def release_run(engine: sa.Engine, run: str) -> list[dict[str, Any]]:
    """End every claim of `run` (its failure callback); returns what was released."""
    with engine.begin() as conn:
        rows = (
            db.run_sql(
                conn,
                "ops",
                "delete_snapshot_claims",
                {
                    "run_id": run,
                    "pipeline": None,
                    "snapshot_date": None,
                },
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def clear(engine: sa.Engine, pipeline: Pipeline, snapshot_date: dt.date) -> list[dict[str, Any]]:
    """Remove the claim on a date whoever holds it (a stuck claim of a run that was killed)."""
    with engine.begin() as conn:
        rows = (
            db.run_sql(
                conn,
                "ops",
                "delete_snapshot_claims",
                {
                    "run_id": None,
                    "pipeline": pipeline,
                    "snapshot_date": snapshot_date,
                },
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def list_claims(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in db.run_sql(conn, "ops", "select_snapshot_claims").mappings()]


def holder(pid: int | None = None) -> str:
    """`host:pid:start`: with the start time the pid names one process for good."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def _started(pid: int) -> int | None:
    """When process `pid` started (1/100 s since boot, steady under clock steps), or None."""
    try:
        return round((psutil.Process(pid).create_time() - psutil.boot_time()) * 100)
    except psutil.Error:
        return None


@contextlib.contextmanager
def whole_run() -> Iterator[None]:
    """Within it, this process runs a whole run: the claims it holds say so (`holder_is_run`)."""
    token = _WHOLE_RUN.set(True)
    try:
        yield
    finally:
        _WHOLE_RUN.reset(token)


def holder_is_run() -> bool:
    return _WHOLE_RUN.get() or settings.current().CHURN_CLAIM_HOLDER == "run"


@contextlib.contextmanager
def asking_run_state(state: RunState) -> Iterator[None]:
    """Within it, `hold` asks `state` (the orchestrator) whether another claim's run still runs."""
    token = _RUN_STATE.set(state)
    try:
        yield
    finally:
        _RUN_STATE.reset(token)


def holder_gone(claim: Any) -> str | None:
    """Why the claim's holder is provably gone, or None while it may still run: the orchestrator
    reports its run finished, or it ran the whole run and its process is gone (on this host, its
    pid names no process, or one that started at another time)."""
    asked = _RUN_STATE.get()
    state = asked(str(claim["run_id"])) if asked is not None else None
    if state in FINISHED:
        return f"Airflow reports that run {state}"
    host, _, process = str(claim["holder"]).partition(":")
    pid, _, started = process.partition(":")
    if not claim["holder_is_run"] or host != socket.gethostname() or not pid.isdigit():
        return None
    now_started = _started(int(pid))
    if now_started is None or str(now_started) != started:
        return f"its process {claim['holder']}, which ran the whole run, is gone"
    return None


def busy_message(pipeline: str, snapshot_date: dt.date, claim: Any, step: str) -> str:
    return (
        f"snapshot {snapshot_date} of the {pipeline} pipeline is being processed by run {claim['run_id']} "
        f"(step {claim['step']} on {claim['holder']}, claimed {claim['claimed_at']:%Y-%m-%d %H:%M:%S %Z}, "
        f"expires {claim['expires_at']:%H:%M:%S %Z}): {step} of this run stops here and changes nothing. "
        f"Rerun when that run has finished; if it was killed, clear its claim with "
        f"`python -m etl.ops.claims clear {pipeline} {snapshot_date}`"
    )


def main(argv: list[str]) -> int:
    """`python -m etl.ops.claims list` | `clear PIPELINE DATE`."""
    from etl.warehouse import settings

    engine = db.get_engine()
    db.check_migrated(engine)
    if argv[:1] == ["clear"] and len(argv) == 3 and argv[1] in LOCK_CLASSES:
        snapshot = settings.parse_date(argv[2], "DATE")
        released = clear(engine, argv[1], snapshot)  # type: ignore[arg-type]
        print(f"cleared {len(released)} claim(s) on {argv[1]} {snapshot}: {released}")
        return 0
    if argv[:1] in (["list"], []):
        for claim in list_claims(engine):
            state = "live" if claim["live"] else "expired"
            print(
                f"{claim['pipeline']:<7} {claim['snapshot_date']}  {state:<7} {claim['run_id']}  "
                f"step {claim['step']} on {claim['holder']}, expires {claim['expires_at']:%Y-%m-%d %H:%M:%S}"
            )
        return 0
    print("usage: python -m etl.ops.claims list | clear {ingest|score} YYYY-MM-DD", file=sys.stderr)
    return 2


if __name__ == "__main__":
    from etl.warehouse.db import NotMigrated
    from etl.warehouse.settings import ConfigError

    try:
        sys.exit(main(sys.argv[1:]))
    except (ConfigError, NotMigrated) as error:
        print(error, file=sys.stderr)
        sys.exit(2)
