"""In-memory view of the population and of pending (not yet committed) candidates.

Contract: a ``Member`` is a candidate that has a full ``dev`` score; ``correct`` is aligned with
the engine's dev examples. ``Pending`` objects collect everything one generation wants to write;
they get their store id only when the generation is committed (``Pending.id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer.evaluation.runner import Prediction
from optimizer.units import Shot, Unit, render_prompt_text


@dataclass
class Pending:
    """A candidate created in the current generation (id assigned at commit)."""

    task_prompt: str
    mutation_prompt: str
    context: tuple[Shot, ...]
    operator: str
    parent_ids: tuple[str, ...]
    generation: int
    meta: dict[str, Any] = field(default_factory=dict)
    predictions: dict[str, list[Prediction]] = field(default_factory=dict)  # split -> preds
    state: str = "rejected"
    fitness: float | None = None
    id: str | None = None

    @property
    def text(self) -> str:
        return render_prompt_text(self.task_prompt, self.context)


@dataclass
class Member:
    """A population member: a committed candidate with a full dev score."""

    id: str
    task_prompt: str
    mutation_prompt: str
    context: tuple[Shot, ...]
    fitness: float
    correct: tuple[bool, ...]
    generation: int
    history: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return render_prompt_text(self.task_prompt, self.context)

    def unit(self) -> Unit:
        return Unit(
            id=self.id,
            task_prompt=self.task_prompt,
            mutation_prompt=self.mutation_prompt,
            context=self.context,
            fitness=self.fitness,
            generation=self.generation,
            history=self.history,
        )


def fitness_of(preds: Sequence[Prediction], metric: str, labels: Sequence[str]) -> float:
    """Fitness on a full split: accuracy or macro-F1 of the predictions."""
    if not preds:
        return 0.0
    if metric == "accuracy":
        return sum(p.correct for p in preds) / len(preds)
    from optimizer.evaluation.metrics import evaluate

    r = evaluate([p.example.label for p in preds], [p.predicted for p in preds], labels, n_boot=0)
    return r.macro_f1


@dataclass
class LoopState:
    """What the loop carries between generations (rebuilt from the store on resume)."""

    generation: int
    population: list[Member]
    best: Member
    best_generation: int
    elapsed_s: float = 0.0
    prior: dict[str, float] = field(default_factory=dict)  # totals of earlier processes
