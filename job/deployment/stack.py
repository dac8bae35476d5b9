"""`make airflow`: a real local Airflow deployment of this project, on the embedded default.

scheduler, dag-processor, triggerer and api-server (plus a Celery worker with the
CeleryExecutor), each in a process group of its own, logs under `<home>/logs/`. Airflow's
metadata lives in a database of the warehouse server (not SQLite); the Celery broker and result
backend are databases there too (kombu's SQLAlchemy transport), so nothing depends on a system
service. The API server binds 127.0.0.1 on 8080 when free, else on a free port (or on
`AIRFLOW_PORT`); every port a component listens on is chosen here, so two deployments on one
machine never report to each other's servers. `python -m job.deployment start [--foreground] | stop | status | airflow <args>`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from etl.warehouse import server, settings
from job.deployment import processes, supervisor
from job.deployment.processes import DeploymentError
from job.orchestration import pools

COMPONENTS: dict[str, list[str]] = {
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "api-server": ["api-server"],
}
CELERY_WORKER = {"celery-worker": ["celery", "worker", "--concurrency", "2"]}
DEFAULT_PORT = 8080  # Airflow's own default, when free: the address a user expects
HEALTHY_WITHIN_SECONDS = 180
HEARTBEAT_TIMEOUT_SECONDS = 90
STATE_FILE = "deployment.json"


@dataclass
class Deployment:
    """One local deployment: its Airflow home, executor, port and metadata database."""

    home: Path = field(default_factory=lambda: settings.local_dir() / "deployment")
    executor: str = "LocalExecutor"
    port: int | None = None
    metadata_database: str = "airflow"
    extra_env: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict, repr=False)  # what it was started with

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE

    def components(self) -> dict[str, list[str]]:
        return {**COMPONENTS, **(CELERY_WORKER if self.executor == "CeleryExecutor" else {})}

    def environment(self) -> dict[str, str]:
        """What every component runs with; secrets are made once per home and kept there (0600)."""
        port = self.port or self._started_port() or settings.current().AIRFLOW_PORT or free_port(prefer=DEFAULT_PORT)
        self.port = port
        base_url = f"http://127.0.0.1:{port}"
        metadata_url = server.create_database(self.metadata_database, exist_ok=True)
        env = dict(os.environ)  # the components inherit every variable (Airflow's too) and read their settings from it
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "PYTHONPATH": str(settings.PROJECT_ROOT),
                "WAREHOUSE_URL": settings.current().WAREHOUSE_URL or server.server_url(),
                "DATA_DIR": settings.current().DATA_DIR or str(settings.local_dir() / "exports" / "{snapshot_date}"),
                "GX_ANALYTICS_ENABLED": "False",
                "CHURN_DEADLINES": "on",  # a scheduler runs here (job/orchestration/alerts.py)
                "CHURN_N_JOBS": "1",  # two candidate families train at once, one core each
                "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__PARALLELISM": "4",
                # A task whose worker or process died is failed (then retried) after 90 s without a
                # heartbeat, not Airflow's default 300 s: with the 30 s retry delay a crashed night
                # heals about 2 min after the restart (etl/ops/README.md). Airflow's own variable
                # set in the environment wins, as it would for Airflow.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": os.environ.get(
                    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT_SECONDS)
                ),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                **self._secrets(),
            }
        )
        if self.executor == "CeleryExecutor":
            celery_url = server.create_database(f"{self.metadata_database}_celery", exist_ok=True)
            env["AIRFLOW__CELERY__BROKER_URL"] = "sqla+" + celery_url
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + celery_url
        env.update(self.extra_env)
        return env

    def _secrets(self) -> dict[str, str]:
        """The JWT secret every component must share (the API server signs the task tokens it
        checks) and the API session key."""
        path = self.home / "secrets.json"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            made = {
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            }
            with os.fdopen(
                os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w"
            ) as out:  # never readable by others
                json.dump(made, out)
        return json.loads(path.read_text())

    def start(self) -> dict[str, int]:
        """Migrate the warehouse and the metadata, create the pools, start every component, wait
        until the API reports all healthy."""
        if self.running():
            raise DeploymentError(f"a deployment already runs from {self.home}: `make airflow-stop` first")
        env = self.env = self.environment()
        migrate_warehouse(env["WAREHOUSE_URL"])
        logs = self.home / "logs"
        for args in (["db", "migrate"], pools.create_command()):
            done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise DeploymentError(f"airflow {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
        pids = {}
        for name, args in self.components().items():
            pids[name] = processes.start_airflow(args, env, logs / f"{name}.log").pid
        started = {name: processes.start_ticks(pid) for name, pid in pids.items()}
        self.state_file.write_text(
            json.dumps({"pids": pids, "started": started, "url": self.url, "executor": self.executor})
        )
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return pids

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, within_seconds: float = HEALTHY_WITHIN_SECONDS) -> dict:
        """Poll /api/v2/monitor/health until the metadata DB, scheduler, triggerer and
        dag-processor are healthy; fail naming the log of a component that died."""
        deadline, health = time.monotonic() + within_seconds, {}
        while time.monotonic() < deadline:
            self._raise_if_one_died()
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=5) as response:
                    health = json.load(response)
            except OSError:
                health = {}
            if health and all((part or {}).get("status") == "healthy" for part in health.values()):
                return health
            time.sleep(1)
        raise DeploymentError(
            f"not healthy within {within_seconds:.0f} s: {health or 'API not answering'}; logs: {self.home / 'logs'}"
        )

    def component_states(self) -> dict[str, bool]:
        """Whether each component of the state file still runs: its pid alive, and the same
        process it started (not a reused pid)."""
        if not self.state_file.exists():
            return {}
        state = json.loads(self.state_file.read_text())
        return {
            name: supervisor.reap(pid) and processes.start_ticks(pid) == state["started"].get(name)
            for name, pid in state["pids"].items()
        }

    def restart(self, name: str) -> int:
        """Start component `name` again (what is left of its process group stopped first);
        returns how many times it has been restarted."""
        state = json.loads(self.state_file.read_text())
        old = state["pids"][name]
        if processes.group_alive(old):
            processes.stop_group(old, grace_seconds=10)
        pid = processes.start_airflow(self.components()[name], self.env, self.home / "logs" / f"{name}.log").pid
        state["pids"][name], state["started"][name] = pid, processes.start_ticks(pid)
        state.setdefault("restarts", {})[name] = state.get("restarts", {}).get(name, 0) + 1
        self.state_file.write_text(json.dumps(state))
        return state["restarts"][name]

    def _raise_if_one_died(self) -> None:
        for name, pid in self._pids().items():
            processes.reap_children(pid)
            if not processes.alive(pid):  # the component itself, not only its helpers
                raise DeploymentError(f"{name} stopped by itself; see {self.home / 'logs' / (name + '.log')}")

    def running(self) -> bool:
        return any(processes.group_alive(pid) for pid in self._pids().values())

    def _started_port(self) -> int | None:
        """The port of the deployment running from this home (the CLI talks to that one)."""
        if not self.running():
            return None
        return int(json.loads(self.state_file.read_text())["url"].rsplit(":", 1)[1])

    def _pids(self) -> dict[str, int]:
        """The components' pids from the state file, leaving out any pid that now names another
        process (same pid, other start time: the file outlived its deployment, e.g. a reboot)."""
        if not self.state_file.exists():
            return {}
        state = json.loads(self.state_file.read_text())
        started = state.get("started", {})
        return {
            name: pid
            for name, pid in state["pids"].items()
            if started.get(name) is None or processes.start_ticks(pid) in (None, started[name])
        }

    def stop(self, pids: dict[str, int] | None = None) -> list[str]:
        """Stop every component's process group (SIGTERM, then SIGKILL after a grace period);
        returns once they are gone. The state file goes first: a `make airflow` in the
        foreground then knows it is being stopped, not that a component died. `pids`: the
        components as the caller knew them (the state file may be gone already)."""
        pids = {**self._pids(), **(pids or {})}
        self.state_file.unlink(missing_ok=True)
        stopped = []
        for name, pid in pids.items():
            if processes.group_alive(pid):
                processes.stop_group(pid, grace_seconds=20)
                stopped.append(name)
        return stopped

    def admin_password(self) -> str | None:
        """The password the simple auth manager generated for `admin` (written by the API server)."""
        path = self.home / "simple_auth_manager_passwords.json.generated"
        return json.loads(path.read_text()).get("admin") if path.exists() else None


def migrate_warehouse(url: str) -> str:
    """The warehouse schema at this code's revision before the scheduler starts: its tasks only
    check it (etl.warehouse.db.check_migrated)."""
    from etl.warehouse import db

    try:
        revision = db.migrate(db.get_engine(url))
    except Exception as error:
        raise DeploymentError(f"migrating the warehouse failed: {type(error).__name__}: {error}") from error
    print(f"warehouse schema at revision {revision}", flush=True)
    return revision


def free_port(prefer: int = 0) -> int:
    """`prefer` if nothing listens on it, else a port the system picks."""
    for port in (prefer, 0) if prefer else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise DeploymentError("no free port on 127.0.0.1")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """start [--foreground] [--executor …] | stop | status | airflow <the airflow CLI's arguments>.

    Each action is a subcommand of its own: a positional REMAINDER beside the options would take
    `--foreground` as an airflow argument and leave the deployment running detached."""
    parser = argparse.ArgumentParser(prog="python -m job.deployment", description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start every component (and wait until healthy)")
    start.add_argument("--foreground", action="store_true", help="keep running until Ctrl-C, then stop")
    # AIRFLOW__CORE__EXECUTOR is Airflow's own variable, not a setting of the job: read as Airflow would
    start.add_argument(
        "--executor",
        default=os.environ.get("AIRFLOW__CORE__EXECUTOR") or "LocalExecutor",
        choices=["LocalExecutor", "CeleryExecutor"],
    )
    actions.add_parser("stop", help="stop the deployment running from this home")
    actions.add_parser("status", help="say whether it runs, and where")
    airflow = actions.add_parser("airflow", help="the airflow CLI on this deployment's metadata and settings")
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    deployment = Deployment(executor=getattr(args, "executor", "LocalExecutor"))
    if args.action == "stop":
        stopped = deployment.stop()
        print(f"stopped: {', '.join(stopped)}" if stopped else "no local Airflow deployment was running")
        return 0
    if args.action == "airflow":
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args.airflow_args], env=deployment.environment()
        ).returncode
    if args.action == "status":
        state = json.loads(deployment.state_file.read_text()) if deployment.running() else None
        print(f"running at {state['url']} ({state['executor']})" if state else "not running")
        restarts = supervisor.restart_counts(deployment.state_file.read_text()) if state else {}
        for name, running in (deployment.component_states() if state else {}).items():
            print(f"  {name}: {'running' if running else 'stopped'}, restarted {restarts.get(name, 0)} times")
        return 0 if state else 1
    try:
        print(f"starting Airflow ({args.executor}, metadata on the warehouse server) …", flush=True)
        deployment.start()
    except DeploymentError as error:
        print(f"make airflow stopped: {error}")
        return 1
    return supervisor.serve_until_stopped(deployment) if args.foreground else 0


if __name__ == "__main__":
    sys.exit(main())
