"""ops.snapshot_claims.holder_is_run: a claim whose whole-run holder is gone is taken over at once.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    db.run_sql(op.get_bind(), "revisions", "0004_claims_holder_is_run")


def downgrade() -> None:
    raise NotImplementedError("the warehouse's revisions go forward only: restore a backup to go back")
