"""BI logins: a LOGIN role in the read-only BI role with a fresh random password (`churn bi-login`).

Apart from etl.warehouse.access because it runs SQL (etl.warehouse.db), and the server, which
db needs, reads access's settings.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from etl.warehouse import access, db


def create_bi_login(conn: sa.Connection, name: str) -> tuple[str, bool]:
    """Create login `name` in the BI role, or give an existing one a new password; returns the
    password (random, 24 characters) and whether the login is new. Runs as the writer; the
    server gets only the SCRAM verifier."""
    password = secrets.token_urlsafe(18)
    login = access.check_login_name(name)
    created = db.run_sql(
        conn,
        "access",
        "upsert_bi_login",
        {
            "login": login,
            "verifier": access.scram_verifier(password, login, conn.connection.dbapi_connection),
            "bi_role": access.BI_ROLE,
        },
    ).scalar_one()
    return password, bool(created)
