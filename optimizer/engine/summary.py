"""What a run reports: the final ``RunSummary`` and the per-generation ``Progress`` event."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunSummary:
    run_id: str
    status: str
    stop_reason: str
    generations: int
    seed_candidate: str | None = None
    best_candidate: str | None = None
    seed_dev_score: float | None = None
    best_dev_score: float | None = None
    seed_test_score: float | None = None
    best_test_score: float | None = None
    test_ci: dict[str, list[float]] = field(default_factory=dict)
    p_value: float | None = None
    significant: bool | None = None
    finalists: list[dict[str, Any]] = field(default_factory=list)
    model_calls: int = 0
    cache_hits: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    proposals: int = 0
    accepted: int = 0
    validation: dict[str, Any] = field(default_factory=dict)  # when validation is configured

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """One progress event (after each committed generation)."""

    run_id: str
    generation: int
    max_generations: int
    best_fitness: float
    best_candidate: str
    proposals: int
    accepted: int
    model_calls: int
    cache_hits: int
    tokens: int
    cost_usd: float
    elapsed_s: float
