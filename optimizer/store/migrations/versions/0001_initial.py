"""Initial schema: runs, lineage, proposals, evaluations, call log, response cache.

Revision ID: 0001
Revises:
Create Date: 2026-12-04

Drafted with ``alembic revision --autogenerate`` from ``optimizer/store/models.py`` and reviewed
by hand (explicit index names, tables in dependency order, no population table: that is 0002).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("config_json", JSON, nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("code_version", sa.String(100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("totals_json", JSON, nullable=True),
        sa.Column("rng_state_json", JSON, nullable=True),
        sa.Column("meta_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_config_hash", "runs", ["config_hash"])

    op.create_table(
        "candidates",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mutation_prompt", sa.Text(), nullable=False),
        sa.Column("context_json", JSON, nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fitness", sa.Float(), nullable=True),
        sa.Column("dev_score", sa.Float(), nullable=True),
        sa.Column("meta_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("run_id", "content_hash", name="uq_candidates_run_hash"),
    )
    op.create_index("ix_candidates_run_generation", "candidates", ["run_id", "generation"])

    op.create_table(
        "candidate_parents",
        sa.Column(
            "child_id", sa.String(32), sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column(
            "parent_id", sa.String(32), sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_candidate_parents_parent_id", "candidate_parents", ["parent_id"])

    op.create_table(
        "proposals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column(
            "parent_id", sa.String(32), sa.ForeignKey("candidates.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("parent_ids_json", JSON, nullable=True),
        sa.Column(
            "child_candidate_id", sa.String(32),
            sa.ForeignKey("candidates.id", ondelete="SET NULL"), nullable=True,
        ),
        sa.Column("mutation_prompt", sa.Text(), nullable=False),
        sa.Column("mutation_prompt_hash", sa.String(64), nullable=False),
        sa.Column("raw_output", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("parent_score", sa.Float(), nullable=True),
        sa.Column("child_score", sa.Float(), nullable=True),
        sa.Column("minibatch_json", JSON, nullable=True),
        sa.Column("meta_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_proposals_run_generation", "proposals", ["run_id", "generation"])
    op.create_index("ix_proposals_parent_id", "proposals", ["parent_id"])
    op.create_index("ix_proposals_child_candidate_id", "proposals", ["child_candidate_id"])

    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "candidate_id", sa.String(32), sa.ForeignKey("candidates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("example_id", sa.String(200), nullable=False),
        sa.Column("split", sa.String(16), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("meta_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint(
            "candidate_id", "split", "example_id", "repeat", name="uq_evaluations_key"
        ),
    )
    op.create_index("ix_evaluations_run_id", "evaluations", ["run_id"])

    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("candidate_id", sa.String(32), nullable=True),
        sa.Column("example_id", sa.String(200), nullable=True),
        sa.Column("tags_json", JSON, nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_llm_calls_request_hash", "llm_calls", ["request_hash"])
    op.create_index("ix_llm_calls_run_id", "llm_calls", ["run_id"])
    op.create_index("ix_llm_calls_candidate_id", "llm_calls", ["candidate_id"])

    op.create_table(
        "response_cache",
        sa.Column("request_hash", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("finish_reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "response_cache", "llm_calls", "evaluations", "proposals", "candidate_parents",
        "candidates", "runs",
    ):
        op.drop_table(table)
