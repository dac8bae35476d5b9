"""Pipelines (or a range of their steps) in processes of their own, for drills that kill one or race
two: `python -m tests.integration.run_step` is a server that imports the pipeline, GX and
scikit-learn once, then forks one process per request it reads on stdin (a JSON line) and answers
with that process's pid. So a step process starts in milliseconds, not the ~5 s of a fresh
interpreter, and racing steps really overlap.

A step process writes to its own file: `ready` once connected (PGAPPNAME names its session),
then, after SIGUSR1 when the request asked for a barrier, one JSON line: {"ok": true, "result": …}
or {"ok": false, "error": type, "message": …}. Tests drive it through `StepServer`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def pipeline_of(step: str):
    """The pipeline (job/pipelines) that declares a step of this name."""
    from job import pipelines

    for pipeline in pipelines.PIPELINES:
        if step in pipeline.names:
            return pipeline
    raise KeyError(f"no pipeline declares a step {step!r}")


def run_steps(
    engine,
    snapshot,
    pipeline: str,
    *,
    first: str | None = None,
    last: str | None = None,
    run: str | None = None,
    data_dir=None,
) -> dict:
    """`pipelines.execute` of the pipeline named `pipeline` (from `first` to `last`): the one
    runner of the CLI and the bench, here in a drill's process."""
    from job import pipelines

    [declared] = [p for p in pipelines.PIPELINES if p.name == pipeline]
    options = {"data_dir": data_dir} if data_dir else {}
    return pipelines.execute(declared, engine, snapshot, run=run, first=first, last=last, **options)


def _child(request: dict) -> int:
    """The forked step process: its own output file, session name and engine."""
    import datetime as dt

    from etl.warehouse import db, settings

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    with open(request["out"], "a", buffering=1) as out:
        os.dup2(out.fileno(), sys.stdout.fileno())
        os.dup2(out.fileno(), sys.stderr.fileno())
    sys.stdout = open(sys.stdout.fileno(), "w", buffering=1, closefd=False)
    os.environ["PGAPPNAME"] = request["app_name"]
    os.environ["WAREHOUSE_URL"] = request["url"]
    settings.current.cache_clear()  # forked from the server: what it read was another environment
    if request["barrier"]:  # blocked before `ready`, so a SIGUSR1 sent at once waits for sigwait
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    engine = db.get_engine(request["url"])
    with engine.connect():
        pass
    print("ready", flush=True)
    if request["barrier"]:
        signal.sigwait({signal.SIGUSR1})
    try:
        result = run_steps(
            engine,
            dt.date.fromisoformat(request["date"]),
            request["pipeline"],
            first=request["first"],
            last=request["last"],
            run=request["run"],
            data_dir=request["data_dir"],
        )
    except Exception as error:
        print(json.dumps({"ok": False, "error": type(error).__name__, "message": str(error)}), flush=True)
        return 1
    print(json.dumps({"ok": True, "result": result}, default=str), flush=True)
    return 0


def serve() -> None:
    """Import once, then fork a step process per request line; exited children are reaped by the
    kernel (SIGCHLD ignored), so a test's SIGKILL leaves no zombie behind."""
    import great_expectations  # noqa: F401  (what every step process would import again)
    import sklearn  # noqa: F401

    from job import pipelines  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("serving", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            finally:
                os._exit(code)
        print(pid, flush=True)


class StepProcess:
    """A forked step process: its pid (to kill it), its barrier and its outcome."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self.out = pid, out

    def _lines(self) -> list[str]:
        return self.out.read_text(errors="replace").splitlines() if self.out.exists() else []

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def wait_ready(self, timeout: float = 120) -> None:
        self._wait(lambda: "ready" in self._lines(), timeout, "ready")

    def go(self) -> None:
        os.kill(self.pid, signal.SIGUSR1)

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        os.kill(self.pid, signal.SIGKILL)
        self._wait(lambda: not self.alive(), 30, "gone after SIGKILL")

    def outcome(self, timeout: float = 240) -> dict:
        """The JSON line it printed (it must end within `timeout` seconds)."""
        self._wait(lambda: not self.alive(), timeout, "finished")
        found = [line for line in self._lines() if line.startswith("{")]
        assert found, f"step printed no outcome: {chr(10).join(self._lines())[-2000:]}"
        return json.loads(found[-1])

    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, (
                f"step process {self.pid} not {what} within {timeout:.0f} s: " + "\n".join(self._lines())[-2000:]
            )
            time.sleep(0.05)


class StepServer:
    """The test side of `serve`: one per test session, started on first use."""

    def __init__(self, folder: Path) -> None:
        from tests.helpers import ROOT

        self.folder, self.requests = folder, 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.run_step"],
            cwd=ROOT,
            env=dict(os.environ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(folder / "server.err").open("w"),
            text=True,
        )
        started = self.process.stdout.readline().strip()
        assert started == "serving", f"step server did not start: {(folder / 'server.err').read_text()[-2000:]}"

    def spawn(
        self,
        pipeline: str,
        snapshot,
        url: str,
        *,
        first: str | None = None,
        last: str | None = None,
        run: str | None = None,
        data_dir: Path | None = None,
        barrier: bool = False,
        app_name: str = "churn-drill",
    ) -> StepProcess:
        """Fork a process running `pipeline` (from step `first` to `last`) for `snapshot` on the
        warehouse `url`; with `barrier` it waits, connected, until `release` lets it go."""
        self.requests += 1
        out = self.folder / f"step-{self.requests}.out"
        request = {
            "pipeline": pipeline,
            "first": first,
            "last": last,
            "date": snapshot.isoformat(),
            "url": url,
            "run": run,
            "barrier": barrier,
            "data_dir": str(data_dir) if data_dir else None,
            "app_name": app_name,
            "out": str(out),
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return StepProcess(int(self.process.stdout.readline()), out)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def release(processes: list[StepProcess]) -> None:
    """Wait until every process of a race is connected, then let them all go at once."""
    for process in processes:
        process.wait_ready()
    for process in processes:
        process.go()


if __name__ == "__main__":
    serve()
