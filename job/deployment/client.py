"""A small client of a running deployment's REST API (v2), as a data engineer's script uses it:
log in as admin, unpause DAGs, create backfills, read runs and task instances. `make soak` and the
deployment tests drive `make airflow` through it; it rides out an API restarting (5xx, refused)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

RETRY_SECONDS = 30  # how long a call is repeated while the API answers 5xx or not at all


class AirflowApi:
    def __init__(self, url: str, password: str | None) -> None:
        """Logged in as admin with `password` (the one `make airflow` prints)."""
        self.url = url
        login = {"username": "admin", "password": password}
        self.token = self._call("POST", "/auth/token", login, auth=False)["access_token"]

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers=headers,
            data=None if body is None else json.dumps(body).encode(),
        )
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    payload = response.read()
                return json.loads(payload) if payload else None
            except urllib.error.HTTPError as error:  # say what the API said, not only the status
                if error.code < 500 or time.monotonic() > deadline:
                    raise AssertionError(f"{method} {path}: HTTP {error.code}: {error.read().decode()[:500]}") from None
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(1)  # a server restarting (its metadata database restarted): asked again

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("PATCH", path, body)

    def dags(self) -> dict[str, dict]:
        return {dag["dag_id"]: dag for dag in self.get("/api/v2/dags")["dags"]}

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_instances(self, dag_id: str = "~", **filters: Any) -> list[dict]:
        """Task instances of every run of `dag_id` (`~`: of every DAG), e.g. state="running"."""
        query = urllib.parse.urlencode({"limit": 100, **filters})
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?{query}")["task_instances"]

    def backfills_done(self, dag_id: str) -> bool:
        return all(b["completed_at"] for b in self.get(f"/api/v2/backfills?dag_id={dag_id}")["backfills"])

    def health(self) -> dict[str, str | None]:
        """component → its status in /api/v2/monitor/health (no login needed)."""
        with urllib.request.urlopen(self.url + "/api/v2/monitor/health", timeout=30) as response:
            return {name: (part or {}).get("status") for name, part in json.load(response).items()}

    def backfill(self, dag_id: str, from_date: str, to_date: str, **options: Any) -> dict:
        return self.post("/api/v2/backfills", {"dag_id": dag_id, "from_date": from_date, "to_date": to_date, **options})


def wait_for(condition: Callable[[], Any], within_seconds: float, what: str, poll: float = 2) -> Any:
    """Poll `condition` until it returns something truthy; fail saying `what` did not happen."""
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"{what} did not happen within {within_seconds:.0f} s")
