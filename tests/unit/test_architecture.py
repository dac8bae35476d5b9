"""The folder tree is the architecture: each room imports only the rooms below it, and no module
or function grows past what a reader takes in at once.

Rooms, lowest first: etl.warehouse (kernel) → etl.quality → etl.data_docs → etl.ops → etl.ingest;
etl.synth beside them on the kernel; ml on etl's kernel, gate and bookkeeping; job above etl and
ml, in rooms: pipelines → orchestration → deployment → local, and cli on pipelines; dags on top.
The gate (etl.quality) does not know its Data Docs: the steps above pass them in. Imports inside
functions count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("etl", "ml", "job", "dags", "bench")
KERNEL = "etl.warehouse"
ETL_ROOMS = {KERNEL, "etl.quality", "etl.data_docs", "etl.ops", "etl.ingest", "etl.synth"}
# job's rooms, lowest first: the pipeline declarations, the Airflow glue that builds DAGs from
# them, the deployment that runs Airflow, then the two ways a person runs the job: `make run`
# (local) and `churn` (cli).
JOB_ROOMS = {"job.pipelines", "job.orchestration", "job.deployment", "job.local", "job.cli"}
BELOW_JOB = ETL_ROOMS | {"ml"}
ALLOWED: dict[str, set[str]] = {
    "etl": set(),  # the package docstring only
    KERNEL: set(),
    "etl.quality": {KERNEL},
    "etl.data_docs": {KERNEL, "etl.quality"},
    "etl.ops": {KERNEL, "etl.quality", "etl.data_docs"},
    "etl.ingest": {KERNEL, "etl.quality", "etl.data_docs", "etl.ops"},
    "etl.synth": {KERNEL},
    "ml": {KERNEL, "etl.quality", "etl.ops"},
    "job": set(),  # the package docstring only
    "job.pipelines": BELOW_JOB,
    "job.orchestration": BELOW_JOB | {"job.pipelines"},
    "job.deployment": BELOW_JOB | {"job.orchestration"},  # it creates the Airflow pools
    "job.local": BELOW_JOB | {"job.pipelines", "job.orchestration", "job.deployment"},
    "job.cli": BELOW_JOB | {"job.pipelines"},
    "dags": BELOW_JOB | {"job.pipelines", "job.orchestration"},
    "bench": BELOW_JOB | {"job.pipelines", "job.orchestration", "job.deployment"},  # make soak drives a deployment
}
MAX_MODULE_LINES = 350
# A test module holds one capability's cases around one expensive fixture (a module stays on one
# xdist worker), and the formatter spreads their calls and tables over more lines than code's.
MAX_TEST_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
LONG_ON_PURPOSE = re.compile(r"\blong because\b", re.IGNORECASE)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _room(module: str) -> str | None:
    """The room a module name belongs to, or None for anything outside the project."""
    parts = module.split(".")
    if parts[0] in ("etl", "job"):
        return ".".join(parts[:2]) if len(parts) > 1 else parts[0]
    return parts[0] if parts[0] in PACKAGES else None


def _imports(path: Path) -> set[str]:
    """Every project module a file imports, wherever the import statement stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from etl import ingest` imports the module etl.ingest (the package etl only as its parent)
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(MODULES)
            names.update(submodules or {node.module})
    return {name for name in names if _room(name) is not None}


MODULES = _modules()


@pytest.mark.parametrize("package, rooms", [("etl", ETL_ROOMS), ("job", JOB_ROOMS)])
def test_every_module_lives_in_a_room(package, rooms):
    strays = [name for name in MODULES if name.startswith(f"{package}.") and _room(name) not in rooms]
    assert strays == [], f"modules directly under {package}/ belong in one of its rooms {sorted(rooms)}: {strays}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_only(module):
    room = _room(module)
    upward = sorted(
        name
        for name in _imports(MODULES[module])
        if _room(name) != room and _room(name) not in ALLOWED[room] and name in MODULES
    )
    assert upward == [], f"{module} ({room}) may import only {sorted(ALLOWED[room])}, imports {upward}"


def test_the_allowed_directions_have_no_cycle():
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(r == goal or (r not in seen and reaches(r, goal, seen | {r})) for r in ALLOWED.get(start, ()))

    assert [room for room in ALLOWED if reaches(room, room, set())] == []


def test_no_import_cycle_between_modules():
    graph = {name: {i for i in _imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}
    # a package's __init__ re-exporting its modules is not a cycle with them
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not t.startswith(name + ".") and not name.startswith(t + ".")}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for target in graph[node]:
            if state.get(target) == 1:
                cycle.extend(path[path.index(target) :] + [target] if target in path else [node, target])
                return True
            if target not in state and visit(target, path + [target]):
                return True
        state[node] = 2
        return False

    for node in graph:
        if node not in state and visit(node, [node]):
            break
    assert cycle == [], " → ".join(cycle)


def _python_files() -> list[Path]:
    return sorted(p for folder in (*PACKAGES, "tests") for p in (ROOT / folder).rglob("*.py"))


def test_no_module_is_oversized():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _python_files()}
    limit = {True: MAX_TEST_MODULE_LINES, False: MAX_MODULE_LINES}
    assert {path: n for path, n in sizes.items() if n > limit[path.startswith("tests/")]} == {}


def test_long_functions_say_why_in_their_docstring():
    long_ones = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not LONG_ON_PURPOSE.search(ast.get_docstring(node) or ""):
                    long_ones.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert long_ones == [], "split them, or say in the docstring why it is long because …"


def test_the_rules_see_the_whole_project():
    """Guards the guard: the rooms above are the ones on disk."""
    assert {_room(name) for name in MODULES} == set(ALLOWED)
    assert len(MODULES) > 40
