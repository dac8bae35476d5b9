"""etl/warehouse/access.py: the embedded server's door settings and BI login names, without a server."""

from __future__ import annotations

import pytest

from etl.warehouse import access, settings


@pytest.mark.parametrize("value, expected", [("", "keep"), ("off", None), ("0", None), ("55432", 55432)])
def test_the_tcp_port_setting(monkeypatch, value, expected):
    monkeypatch.setenv("WAREHOUSE_TCP_PORT", value)
    assert access.tcp_port_setting() == expected


@pytest.mark.parametrize("value", ["80", "70000", "localhost:5432", "yes please"])
def test_a_bad_tcp_port_names_the_setting(monkeypatch, value):
    monkeypatch.setenv("WAREHOUSE_TCP_PORT", value)
    with pytest.raises(settings.ConfigError, match="WAREHOUSE_TCP_PORT"):
        access.tcp_port_setting()


def test_settings_listen_on_loopback_only_and_lock_the_socket(tmp_path):
    on, off = access.access_settings_text(55432), access.access_settings_text(None)
    assert "port = 55432" in on and "listen_addresses = '127.0.0.1'" in on
    assert "listen_addresses = ''" in off and "port" not in off
    assert all("unix_socket_permissions = 0700" in text for text in (on, off))
    (tmp_path / access.ACCESS_FILE).write_text(on)
    assert access.configured_tcp_port(tmp_path) == 55432
    (tmp_path / access.ACCESS_FILE).write_text(off)
    assert access.configured_tcp_port(tmp_path) is None


def test_every_tcp_line_of_pg_hba_asks_for_scram():
    rules = [line.split() for line in access.HBA_TEXT.splitlines() if line and not line.startswith("#")]
    assert {tuple(rule[:1]) for rule in rules} == {("local",), ("host",)}
    assert all(rule[-1] == "scram-sha-256" for rule in rules if rule[0] == "host")


@pytest.mark.parametrize("name", ["Metabase", "bi-user", "x" * 64, "", access.WRITER_ROLE, access.BI_ROLE, "postgres"])
def test_login_names_are_plain_and_never_a_role_of_the_job(name):
    with pytest.raises(settings.ConfigError, match="BI login name"):
        access.check_login_name(name)
