"""SQLAlchemy 2.x declarative models: the database schema, private to ``optimizer.store``.

The schema itself is owned by the Alembic revisions in ``migrations/versions``; these models
must describe the same tables (a test compares them). Conventions:

- string ids (see ``ids.py``) for runs, candidates and proposals; integer row ids for the
  high-volume tables (evaluations, llm_calls);
- times are Unix epoch seconds (``Float``); JSON bags are ``JSON`` columns (``NULL`` for None);
- enumerations (status, state, kind, split) are plain strings validated by the store, not
  CHECK constraints, so adding a value never needs a table rebuild on SQLite;
- append-only history (candidates, proposals, evaluations) is never updated except the
  candidate's ``state``/``fitness``/``dev_score``/``meta``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = JSON(none_as_null=True)


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default="run")
    status: Mapped[str] = mapped_column(String(24), index=True)
    task: Mapped[str] = mapped_column(String(200), default="")
    seed: Mapped[int] = mapped_column(Integer)
    config_json: Mapped[dict[str, Any]] = mapped_column(Json)
    config_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_version: Mapped[str] = mapped_column(String(100), default="")
    generation: Mapped[int] = mapped_column(Integer, default=0)
    totals_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    rng_state_json: Mapped[Any | None] = mapped_column(Json, nullable=True)
    meta_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Candidate(Base):
    """A distinct task-prompt unit of a run.

    Identity is content: UNIQUE(run_id, content_hash). When the same text + mutation-prompt +
    context is proposed again in a later generation it is the same candidate (its scores and
    evaluations are reused, never paid twice); the repeated proposal is recorded in
    ``proposals`` with ``child_candidate_id`` pointing at the existing row. ``generation`` is
    the generation of first appearance.
    """

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("run_id", "content_hash", name="uq_candidates_run_hash"),
        Index("ix_candidates_run_generation", "run_id", "generation"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    mutation_prompt: Mapped[str] = mapped_column(Text, default="")
    context_json: Mapped[list[Any] | None] = mapped_column(Json, nullable=True)
    generation: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    fitness: Mapped[float | None] = mapped_column(Float, nullable=True)
    dev_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    meta_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class CandidateParent(Base):
    """Lineage edge: ``parent_id`` is parent number ``position`` (0-based) of ``child_id``."""

    __tablename__ = "candidate_parents"

    child_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )


class Proposal(Base):
    """One operator application, accepted or not, with its cost and minibatch scores."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_run_generation", "run_id", "generation"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL"), nullable=True, index=True
    )
    parent_ids_json: Mapped[list[str] | None] = mapped_column(Json, nullable=True)
    child_candidate_id: Mapped[str | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL"), nullable=True, index=True
    )
    mutation_prompt: Mapped[str] = mapped_column(Text, default="")
    mutation_prompt_hash: Mapped[str] = mapped_column(String(64))
    raw_output: Mapped[str] = mapped_column(Text, default="")
    accepted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    calls: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    parent_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    child_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    minibatch_json: Mapped[list[str] | None] = mapped_column(Json, nullable=True)
    meta_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class Evaluation(Base):
    """One scored (candidate, example, split, repeat). Stored once: see the unique key."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint(
            "candidate_id", "split", "example_id", "repeat", name="uq_evaluations_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    example_id: Mapped[str] = mapped_column(String(200))
    split: Mapped[str] = mapped_column(String(16))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    prediction: Mapped[str | None] = mapped_column(Text, nullable=True)
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class LLMCall(Base):
    """Every gateway call, cached or not. ``run_id``/``candidate_id``/``example_id`` come from
    the request tags and are deliberately not foreign keys: the log must never be refused."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_hash: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    example_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tags_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class CachedResponse(Base):
    """Response cache keyed by ``ChatRequest.request_hash()``; first write wins."""

    __tablename__ = "response_cache"

    request_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    finish_reason: Mapped[str] = mapped_column(String(32), default="stop")
    created_at: Mapped[float] = mapped_column(Float)


class PopulationSlot(Base):
    """Population of a run after a generation: slot ``slot`` holds ``candidate_id``.

    Added in revision 0002. Together with ``runs.rng_state_json`` this is the resume
    checkpoint; per-generation rows also give population curves for analysis.
    """

    __tablename__ = "population"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[str] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )


class Review(Base):
    """A human (or CI) review of a candidate: approve, reject or comment. Append-only.

    Added in revision 0003. ``release_name`` names the release line the candidate was reviewed
    for (its production prompt is the comparison); ``evidence_json`` holds the gate results.
    """

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    release_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    evidence_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class Release(Base):
    """Version ``version`` of release line ``name``: a snapshot of a candidate. Append-only."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_releases_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    review_id: Mapped[str | None] = mapped_column(ForeignKey("reviews.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    evidence_json: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class AliasMove(Base):
    """Alias ``alias`` of release line ``name`` now points at ``release_id`` (None: removed).

    Append-only: the current target of an alias is its latest move; rollback is a new move.
    """

    __tablename__ = "alias_moves"
    __table_args__ = (Index("ix_alias_moves_name_alias", "name", "alias", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"), nullable=True)
    previous_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id"), nullable=True
    )
    moved_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)


runs_t = Run.__table__
candidates_t = Candidate.__table__
parents_t = CandidateParent.__table__
proposals_t = Proposal.__table__
evaluations_t = Evaluation.__table__
llm_calls_t = LLMCall.__table__
cache_t = CachedResponse.__table__
population_t = PopulationSlot.__table__
reviews_t = Review.__table__
releases_t = Release.__table__
alias_moves_t = AliasMove.__table__
