"""`make airflow` as a supervisor: a component that stops by itself is started again, the way a
process manager in production would, instead of taking the whole deployment down.

Each death is printed with the component's log; the restart waits BACKOFF_SECONDS (1, 2, 4 … s:
a component that crashes at once is not restarted in a tight loop), and a component that died
more than MAX_RESTARTS times within RESTART_WINDOW_SECONDS stops the deployment, since restarting
it is not healing it. The state file keeps each component's restart count for `status`.

One failure does not kill its process: after the database server restarts, the Celery worker's
broker (kombu's SQLAlchemy transport) is left with a session it never rolls back; the worker
logs PendingRollbackError once, stays alive and takes no task again. So the supervisor also
watches when the metadata database's server started, and starts the worker again when that changes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from job.deployment import processes
from job.deployment.processes import DeploymentError

Deployment = Any  # job.deployment.stack.Deployment, which imports this module

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 600
BACKOFF_SECONDS = (1, 2, 4, 8, 16)
SERVER_CHECK_SECONDS = 5


class Supervisor:
    """Watches one started deployment's components (call `check` about once a second)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.deaths: dict[str, list[float]] = {}
        self.restart_at: dict[str, float] = {}
        self.server_started: str | None = None
        self.server_checked = float("-inf")

    def check(self, say=print) -> None:
        """Restart each component found dead once its backoff is over, and the Celery worker
        after the database server restarted; DeploymentError when one died too often."""
        self._after_a_server_restart(say)
        for name, running in self.deployment.component_states().items():
            if running:
                continue
            now = time.monotonic()
            if name not in self.restart_at:
                deaths = [t for t in self.deaths.get(name, []) if now - t < RESTART_WINDOW_SECONDS] + [now]
                self.deaths[name] = deaths
                log = self.deployment.home / "logs" / f"{name}.log"
                if len(deaths) > MAX_RESTARTS:
                    raise DeploymentError(
                        f"{name} stopped by itself {len(deaths)} times within {RESTART_WINDOW_SECONDS // 60} min; see {log}"
                    )
                delay = BACKOFF_SECONDS[min(len(deaths), len(BACKOFF_SECONDS)) - 1]
                self.restart_at[name] = now + delay
                say(f"{name} stopped by itself (log: {log}); starting it again in {delay} s", flush=True)
            if now >= self.restart_at[name]:
                del self.restart_at[name]
                restarts = self.deployment.restart(name)
                say(f"{name} started again (restart {restarts})", flush=True)

    def _after_a_server_restart(self, say) -> None:
        if "celery-worker" not in self.deployment.components():
            return
        now = time.monotonic()
        if now - self.server_checked < SERVER_CHECK_SECONDS:
            return
        self.server_checked = now
        started = server_started(self.deployment.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        if started is None:  # down or restarting: looked at again in a few seconds
            return
        if self.server_started is not None and started != self.server_started:
            restarts = self.deployment.restart("celery-worker")
            say(
                f"the database server restarted: celery-worker started again (restart {restarts}), "
                "its broker session does not survive a server restart",
                flush=True,
            )
        self.server_started = started


def server_started(url: str) -> str | None:
    """When the database server of `url` started, or None when it cannot be reached now."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar_one())
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def restart_counts(state_file_text: str) -> dict[str, int]:
    """The restart count per component in a state file (none before the first restart)."""
    return json.loads(state_file_text).get("restarts", {})


def reap(pid: int) -> bool:
    """Whether component `pid` still runs, after collecting it if it exited (ours: a zombie)."""
    processes.reap_children(pid)
    return processes.alive(pid)


def serve_until_stopped(deployment: Deployment) -> int:
    """`make airflow`: print where the UI is, then supervise until Ctrl-C, SIGTERM, `make
    airflow-stop` (the state file goes) or a component dying too often (job/deployment/supervisor.py);
    stop every component on the way out.

    SIGINT is handled explicitly: a shell starts a background job (`make airflow &`) with SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler of its own."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    started = deployment._pids()
    print(f"Airflow UI: {deployment.url}   login: admin / {deployment.admin_password()}")
    print(f"DAGs start paused: unpause them in the UI. Exports are read from {deployment.env['DATA_DIR']}")
    print(f"logs: {deployment.home / 'logs'}   stop: Ctrl-C or `make airflow-stop`", flush=True)
    watcher = Supervisor(deployment)
    try:
        while deployment.state_file.exists():
            watcher.check()
            started.update(deployment._pids())  # a restarted component: stop its new process too
            time.sleep(1)
        print("stopped by `make airflow-stop`", flush=True)
        return 0
    except KeyboardInterrupt:
        print("stopping Airflow …", flush=True)
        return 0
    except DeploymentError as error:
        print(f"make airflow stopped: {error}", flush=True)
        return 1
    finally:
        processes.ignore_stop_signals()
        deployment.stop(started)  # also waits for what `make airflow-stop` is still stopping
        print("Airflow stopped: no component is left running", flush=True)
