"""Reviews, releases and alias moves (append-only promotion history).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("candidate_id", sa.String(32), sa.ForeignKey("candidates.id"), nullable=False),
        sa.Column("release_name", sa.String(200), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("evidence_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_reviews_candidate_id", "reviews", ["candidate_id"])

    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.String(32), sa.ForeignKey("candidates.id"), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("review_id", sa.String(32), sa.ForeignKey("reviews.id"), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("evidence_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_releases_name_version"),
    )
    op.create_index("ix_releases_candidate_id", "releases", ["candidate_id"])

    op.create_table(
        "alias_moves",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), nullable=True),
        sa.Column(
            "previous_release_id", sa.Integer(), sa.ForeignKey("releases.id"), nullable=True
        ),
        sa.Column("moved_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_alias_moves_name_alias", "alias_moves", ["name", "alias", "id"])


def downgrade() -> None:
    op.drop_index("ix_alias_moves_name_alias", table_name="alias_moves")
    op.drop_table("alias_moves")
    op.drop_index("ix_releases_candidate_id", table_name="releases")
    op.drop_table("releases")
    op.drop_index("ix_reviews_candidate_id", table_name="reviews")
    op.drop_table("reviews")
