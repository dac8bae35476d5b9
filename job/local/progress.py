"""Progress of an `airflow dags test` run for the `make run` console, read from its log as it grows.

Why from the log: `dags test` runs the tasks one after another in its own process and writes
everything there (~90 % Great Expectations and Airflow detail); a person watching the console
wants one line per task — started, finished with its duration — and, during retraining, which
candidate family is being trained and about how long the rest will take.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z?\s")
_STARTING = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
_STATE = re.compile(r"Task instance state updated .* new_state=(?P<state>\w+)")
_FAMILIES = re.compile(r"retrain \S+ on snapshot .* families (?P<families>\[[^\]]*\])")


@dataclass
class Follower:
    """Feed it the log's lines in order; it calls `say` with what a person should see."""

    say: Callable[[str], None] = print
    families: list[str] = field(default_factory=list)
    _task: str | None = None
    _index: int = -1
    _started: dt.datetime | None = None
    _family_seconds: list[float] = field(default_factory=list)

    def feed(self, line: str) -> None:
        at = _time(line)
        if found := _FAMILIES.search(line):
            self.families = [str(name) for name in ast.literal_eval(found["families"])]
        elif found := _STARTING.search(line):
            self._task, self._index, self._started = found["task"], int(found["index"]), at
            self.say(f"  {self._name()} …")
        elif (found := _STATE.search(line)) and self._task is not None:
            self._finished(found["state"], at)

    def _name(self) -> str:
        if self._index < 0:
            return self._task or "?"
        family = self.families[self._index] if self._index < len(self.families) else str(self._index)
        return f"{self._task}[{family}]"

    def _finished(self, state: str, at: dt.datetime | None) -> None:
        seconds = (at - self._started).total_seconds() if at and self._started else None
        took = f" in {seconds:.0f} s" if seconds is not None else ""
        line = f"  {self._name()} {state}{took}"
        if self._index >= 0 and seconds is not None:
            self._family_seconds.append(seconds)
            left = len(self.families) - len(self._family_seconds)
            if left > 0:
                estimate = sum(self._family_seconds) / len(self._family_seconds) * left
                line += f"; {left} famil{'y' if left == 1 else 'ies'} to go, about {_duration(estimate)}"
        self.say(line)
        self._task, self._started = None, None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _time(line: str) -> dt.datetime | None:
    found = _TIMESTAMP.match(line)
    return dt.datetime.fromisoformat(found[1]) if found else None
