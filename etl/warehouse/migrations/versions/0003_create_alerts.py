"""ops.alerts: every alert raised, once per key, and whether the webhook took it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    db.run_sql(op.get_bind(), "revisions", "0003_create_alerts")


def downgrade() -> None:
    raise NotImplementedError("the warehouse's revisions go forward only: restore a backup to go back")
