"""`make run`: the whole nightly job, end to end, on this machine.

ingest (load → gate → staging → features → gate → publish) → retrain when there is no champion
or it was trained on other rows than this labelled snapshot → score,
each DAG run with `airflow dags test` (no scheduler needed), then a summary to act on.
Data: `DATA_DIR`, or a synthetic snapshot generated into .local/data when it is unset.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Iterator

from etl.warehouse import db, server, settings
from job import summary

SYNTH_CUSTOMERS = int(os.environ.get("SYNTH_CUSTOMERS", "2000"))
SYNTH_SEED = int(os.environ.get("SYNTH_SEED", "7"))


class AlreadyRunning(RuntimeError):
    """Another `make run` holds this checkout (its Airflow home, logs and generated data)."""


def main() -> int:
    """Run the job; a failure prints one line saying what and where, the traceback goes to a log."""
    logging.basicConfig(level=logging.WARNING)
    try:
        with _one_run_per_checkout():
            return _run()
    except Exception as error:  # the console gets one line; the detail is in the log file
        print(f"make run stopped: {_one_line(error)}")
        log_file = _log_path("make-run-error")
        log_file.write_text("".join(traceback.format_exception(error)))
        print(f"detail: {log_file}")
        return 2 if isinstance(error, (settings.ConfigError, AlreadyRunning)) else 1


def _one_line(error: BaseException) -> str:
    import sqlalchemy as sa

    from ml import registry

    if isinstance(error, sa.exc.OperationalError):
        url = os.environ.get("WAREHOUSE_URL") or "the embedded server"
        reason = str(error.orig or error).strip().splitlines()[0]
        return f"cannot reach the warehouse ({_hide_password(url)}): {reason}"
    if isinstance(error, registry.ModelRegistryError):
        return f"{error} — roll the champion back to an intact model or retrain (README: Operations)"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, (settings.ConfigError, AlreadyRunning)):
        return first_line
    return f"{type(error).__name__}: {first_line}"


def _hide_password(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "WAREHOUSE_URL (unparsable)"


@contextlib.contextmanager
def _one_run_per_checkout() -> Iterator[None]:
    """Two `make run`s in one checkout would share Airflow's SQLite and overwrite each other's
    logs: the second one stops at once, naming the first."""
    path = settings.local_dir() / "make-run.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown pid"
            raise AlreadyRunning(f"another make run is running in this checkout ({holder}); wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        yield


def _run() -> int:
    snapshot = settings.snapshot_date_from_env()
    url = server.server_url()
    engine = db.get_engine(url)
    db.ensure_schema(engine)  # first: an unreachable warehouse stops the run before any work
    env = _job_environment(url, _data_dir())
    print(f"warehouse: {engine.url.render_as_string(hide_password=True)}")
    print(f"data:      {env['DATA_DIR']}")
    print(f"snapshot:  {snapshot}")

    _airflow(["db", "migrate"], env, "airflow-db-migrate")
    if not _run_dag("churn_ingest", snapshot, env):
        return 1
    reason = _training_needed(engine, snapshot)
    if reason:
        print(f"{reason}: running churn_retrain (its promotion gate decides)")
        if not _run_dag("churn_retrain", snapshot, env):
            return 1
    if not _run_dag("churn_score", snapshot, env):
        return 1
    print()
    print(summary.render(engine, snapshot))
    return 0


def _data_dir() -> Path:
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"]).resolve()
    from etl import synth

    folder = settings.local_dir() / "data" / f"synthetic-v{synth.GENERATOR_VERSION}-{SYNTH_CUSTOMERS}-seed{SYNTH_SEED}"
    if not (folder / "money.csv").is_file():
        print(f"DATA_DIR unset: generating a synthetic snapshot of {SYNTH_CUSTOMERS} customers")
        synth.generate_snapshot(folder, customers=SYNTH_CUSTOMERS, seed=SYNTH_SEED)
    return folder


def _job_environment(url: str, data_dir: Path) -> dict[str, str]:
    """Environment of the Airflow processes: the warehouse URL, the data folder, a local Airflow."""
    env = dict(os.environ)
    env["WAREHOUSE_URL"] = url
    env["DATA_DIR"] = str(data_dir)
    env.setdefault("AIRFLOW_HOME", str(settings.local_dir() / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(settings.PROJECT_ROOT / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    # `airflow dags test` runs mapped candidate families one after another: give each both cores.
    env.setdefault("CHURN_N_JOBS", "2")
    return env


def _log_path(name: str) -> Path:
    folder = settings.local_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"


def _airflow(args: list[str], env: dict[str, str], log_name: str) -> bool:
    log_file = _log_path(log_name)
    with log_file.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        print(f"FAILED: airflow {' '.join(args)} (exit {result.returncode}); full log: {log_file}")
        print(_error_excerpt(log_file))
    return result.returncode == 0


def _run_dag(dag_id: str, snapshot: dt.date, env: dict[str, str]) -> bool:
    started = time.monotonic()
    print(f"running {dag_id} for {snapshot} …", end=" ", flush=True)
    ok = _airflow(["dags", "test", dag_id, snapshot.isoformat()], env, f"{dag_id}-{snapshot}")
    if ok:
        print(f"ok ({time.monotonic() - started:.0f} s, log: {_log_path(f'{dag_id}-{snapshot}')})")
    return ok


def _error_excerpt(log_file: Path, limit: int = 40) -> str:
    """The lines a person needs from a failed run: errors and the gate's failure table."""
    lines = log_file.read_text(errors="replace").splitlines()
    wanted = [l for l in lines if any(k in l for k in ("ERROR", "Error", "error", "FAILED", "failed", "| "))]
    return "\n".join((wanted or lines)[-limit:])


def _training_needed(engine, snapshot: dt.date) -> str | None:
    from ml import training

    return training.training_needed(engine, snapshot)


if __name__ == "__main__":
    sys.exit(main())
