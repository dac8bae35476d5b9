"""Baseline: the warehouse layout of main at d986e9a.

That code was the last to build and upgrade warehouses without revisions (its ensure_schema ran
sql/schema + sql/mart at every load).

No DDL: etl.warehouse.db.migrate stamps a warehouse of ours that has no revision here, then
upgrades it; an empty database is built from sql/schema + sql/mart and stamped at head instead.
tests/integration/fixtures/main_layout.sql is this layout, frozen.

Revision ID: 0001
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: revisions start from this layout."""


def downgrade() -> None:
    raise NotImplementedError("the warehouse's revisions go forward only: restore a backup to go back")
