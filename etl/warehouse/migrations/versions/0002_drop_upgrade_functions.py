"""Drop the functions that partitioned older warehouses' plain tables in place.

ops.set_aside_plain_table and ops.move_set_aside_rows converted the plain feature and score tables
of pre-partitioning warehouses: every warehouse at the baseline is converted, and sql/schema no
longer creates them, so an upgraded warehouse equals a fresh one.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    db.run_sql(op.get_bind(), "revisions", "0002_drop_upgrade_functions")


def downgrade() -> None:
    raise NotImplementedError("the warehouse's revisions go forward only: restore a backup to go back")
