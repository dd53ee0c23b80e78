"""Population per generation (resume checkpoint and population curves).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "population",
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("generation", sa.Integer(), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True),
        sa.Column(
            "candidate_id", sa.String(32), sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_population_candidate_id", "population", ["candidate_id"])


def downgrade() -> None:
    op.drop_index("ix_population_candidate_id", table_name="population")
    op.drop_table("population")
