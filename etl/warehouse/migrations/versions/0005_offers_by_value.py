"""Offers by value: the targeting columns of the scores, the policy's offer groups, the uplift
model registry and the per-date targeting tables.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

from etl.warehouse import db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    db.run_sql(conn, "revisions", "0005_offers_by_value")
    # The schema files are idempotent (IF NOT EXISTS, OR REPLACE): run again, they add the new
    # columns' comments, scoring.latest_scores with its new columns, the view
    # outcomes.settled_score_dates that the settling step and the uplift training share, and the
    # targeting tables.
    for name in (
        "060_create_scoring_tables",
        "065_create_latest_scores_view",
        "075_create_outcome_tables",
        "080_create_targeting_tables",
    ):
        db.run_sql(conn, "schema", name)


def downgrade() -> None:
    raise NotImplementedError("the warehouse's revisions go forward only: restore a backup to go back")
