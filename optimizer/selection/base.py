"""The selection extension point: a ``Selector`` plans which units reproduce and whom they replace.

Contract:
- ``plan(population, rng, *, scores=None)`` returns a list of ``Pairing``: ``parent_id`` is
  the unit to mutate; ``replaces_id`` is the unit whose slot the child takes (``None`` when the
  population may grow). The engine applies the plan; selectors never mutate anything.
- Selectors are pure functions of their inputs: same population, scores and RNG state → same
  plan. All randomness comes from the ``rng`` argument.
- ``scores`` maps unit id → per-example scores (higher is better), every row over the same
  examples in the same order (or over attack families, or any other shared columns). Selectors
  that need it (Pareto) raise ``ConfigError`` when it is missing; others ignore it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from optimizer.units import Unit

__all__ = ["Pairing", "ScoreMatrix", "Selector"]

ScoreMatrix = Mapping[str, Sequence[float]]


@dataclass(frozen=True, slots=True)
class Pairing:
    """Mutate ``parent_id``; the child takes ``replaces_id``'s slot (None: append)."""

    parent_id: str
    replaces_id: str | None


@runtime_checkable
class Selector(Protocol):
    """Chooses parents (and the slots their children take) for one generation."""

    def plan(
        self,
        population: Sequence[Unit],
        rng: random.Random,
        *,
        scores: ScoreMatrix | None = None,
    ) -> list[Pairing]:
        """Plan one generation.

        Args:
            population: the current units, with fitness.
            rng: the only source of randomness.
            scores: per-example scores by unit id (needed by per-example selectors).

        Returns:
            The pairings, in the order the engine should run them.

        Raises:
            ConfigError: the inputs do not fit this selector (e.g. no scores for Pareto).
        """
        ...
