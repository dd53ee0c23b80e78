"""Frozen value records returned by the store, and the rows passed into it.

No ORM object ever leaves ``optimizer.store``: every read returns one of these records, and a
record never changes after it was returned (later writes produce new records). Times are Unix
epoch seconds (UTC) as floats. JSON bags (``config``, ``totals``, ``meta``) are plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RUN_KINDS = frozenset({"run", "eval", "check", "shadow", "tune"})
RUN_STATUSES = frozenset({"running", "completed", "interrupted", "budget_exhausted", "failed"})
CANDIDATE_STATES = frozenset(
    {"pending", "evaluated", "rejected", "champion", "failed", "retired"}
)
SPLITS = frozenset({"train", "dev", "test", "regression", "shadow", "dataset"})
REVIEW_DECISIONS = frozenset({"approve", "reject", "comment"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    id: str
    name: str
    kind: str
    status: str
    task: str
    seed: int
    config: Mapping[str, Any]
    config_hash: str
    code_version: str
    generation: int
    totals: Mapping[str, Any]
    rng_state: Any
    meta: Mapping[str, Any]
    created_at: float
    updated_at: float
    finished_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateRecord:
    id: str
    run_id: str
    content_hash: str
    text: str
    mutation_prompt: str
    context: tuple[Any, ...]
    generation: int
    operator: str
    state: str
    fitness: float | None
    dev_score: float | None
    parent_ids: tuple[str, ...]
    meta: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalRecord:
    id: str
    run_id: str
    generation: int
    operator: str
    parent_ids: tuple[str, ...]
    child_candidate_id: str | None
    mutation_prompt: str
    mutation_prompt_hash: str
    raw_output: str
    accepted: bool
    reason: str
    calls: int
    tokens: int
    cost_usd: float
    parent_score: float | None
    child_score: float | None
    minibatch: tuple[str, ...]
    meta: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationRow:
    """One scored (candidate, example, split, repeat); the input of ``Store.add_evaluations``.

    ``repeat`` numbers repeated scorings of the same example (temperature > 0); the store
    keeps at most one row per (candidate_id, example_id, split, repeat).
    """

    run_id: str
    candidate_id: str
    example_id: str
    split: str
    prediction: str | None
    label: str | None
    correct: bool | None
    score: float | None
    repeat: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    cached: bool = False
    error: str | None = None
    feedback: str | None = None
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationRecord(EvaluationRow):
    """A stored ``EvaluationRow`` with its row id and insertion time."""

    id: int
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorStat:
    """Proposals of one (operator, mutation-prompt) pair in a run, aggregated from proposals.

    ``improved`` counts proposals whose child scored strictly better than its parent on the
    minibatch; ``cost_usd`` and ``tokens`` are the mutation costs of all those proposals.
    """

    run_id: str
    operator: str
    mutation_prompt_hash: str
    proposals: int
    accepted: int
    improved: int
    tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMCallRow:
    """One stored row of the call log (see ``optimizer.llm.types.CallRecord``)."""

    id: int
    request_hash: str
    model: str
    role: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    cached: bool
    error: str | None
    run_id: str | None
    candidate_id: str | None
    tags: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRecord:
    id: str
    candidate_id: str
    release_name: str | None
    reviewer: str
    decision: str
    comment: str
    evidence: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseRecord:
    """Version ``version`` of release line ``name``; ``text``/``content_hash`` are a snapshot
    of the candidate at promotion time."""

    id: int
    name: str
    version: int
    candidate_id: str
    content_hash: str
    text: str
    review_id: str | None
    created_by: str
    notes: str
    evidence: Mapping[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasMoveRecord:
    """One move of an alias; ``version``/``previous_version`` are None for "not set"."""

    id: int
    name: str
    alias: str
    version: int | None
    previous_version: int | None
    moved_by: str
    reason: str
    created_at: float
