"""Per-example Pareto sampling (GEPA's candidate selection, after MAP-Elites "illumination").

Given per-example scores (rows: units; columns: the same examples, or attack families):
1. for each column, the *front* is the set of units with the best score on it (ties included);
2. dominated units are dropped: a unit is dominated when every front it belongs to also holds
   another surviving unit. Removal goes from the lowest mean score up, one unit at a time, so of
   two units with identical wins the better on average survives (GEPA's
   ``remove_dominated_programs``);
3. parents are sampled with probability proportional to the number of fronts each surviving
   unit belongs to.

Replacement: while the population is below ``max_population`` (or always, when it is None) the
children are appended (``replaces_id=None``). Otherwise each child replaces the worst
non-frontier unit (units without scores first, then lowest mean score); only when those run out
are frontier units replaced, fewest wins first, and never a unit chosen as a parent in the same
plan. When no slot is left the plan is shorter than requested.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from statistics import fmean

from optimizer.errors import ConfigError
from optimizer.selection.base import Pairing, ScoreMatrix
from optimizer.units import Unit

__all__ = ["ParetoSelector", "pareto_frontier"]


def pareto_frontier(scores: ScoreMatrix, tolerance: float = 1e-9) -> dict[str, int]:
    """Non-dominated units → number of columns on which each is among the best.

    Units are returned in the order of ``scores``. Raises ``ConfigError`` when rows differ in
    length or there are no columns.
    """
    ids = list(scores)
    if not ids:
        return {}
    widths = {len(scores[i]) for i in ids}
    if len(widths) != 1:
        raise ConfigError(
            f"score rows must all cover the same examples; got lengths {sorted(widths)}"
        )
    width = widths.pop()
    if width == 0:
        raise ConfigError("score rows are empty; Pareto selection needs per-example scores")
    fronts: list[set[str]] = []
    for j in range(width):
        best = max(float(scores[i][j]) for i in ids)
        fronts.append({i for i in ids if float(scores[i][j]) >= best - tolerance})

    means = {i: fmean(float(v) for v in scores[i]) for i in ids}
    candidates = sorted({i for f in fronts for i in f}, key=lambda i: (means[i], i))
    alive = set(candidates)
    removed = True
    while removed:
        removed = False
        for unit in candidates:
            if unit not in alive:
                continue
            others = alive - {unit}
            if all(f & others for f in fronts if unit in f):
                alive.discard(unit)
                removed = True
                break
    counts = {i: sum(1 for f in fronts if i in f) for i in ids if i in alive}
    return counts


class ParetoSelector:
    """GEPA per-example Pareto parent sampling.

    Args:
        n_parents: pairings per generation (default: half the population, at least 1, as many
            children as a binary tournament makes).
        max_population: the population may grow up to this size before children replace
            units (None: it always grows).
        tolerance: scores within this of a column's best count as best.
    """

    name = "pareto"

    def __init__(
        self,
        n_parents: int | None = None,
        max_population: int | None = None,
        tolerance: float = 1e-9,
    ) -> None:
        if n_parents is not None and n_parents < 1:
            raise ConfigError(f"pareto: n_parents must be >= 1, got {n_parents}")
        if max_population is not None and max_population < 1:
            raise ConfigError(f"pareto: max_population must be >= 1, got {max_population}")
        self.n_parents, self.max_population, self.tolerance = n_parents, max_population, tolerance

    def plan(
        self,
        population: Sequence[Unit],
        rng: random.Random,
        *,
        scores: ScoreMatrix | None = None,
    ) -> list[Pairing]:
        if scores is None:
            raise ConfigError("the pareto selector needs per-example scores (scores=...)")
        members = {u.id for u in population}
        scored = {i: scores[i] for i in (u.id for u in population) if i in scores}
        wins = pareto_frontier(scored, self.tolerance)
        if not wins:
            return []
        n = self.n_parents or max(1, len(population) // 2)
        frontier = list(wins)
        parents = rng.choices(frontier, weights=[wins[i] for i in frontier], k=n)

        free = n if self.max_population is None else max(0, self.max_population - len(members))
        means = {i: fmean(float(v) for v in row) for i, row in scored.items()}
        unscored = [u.id for u in population if u.id not in scored]
        losers = sorted((i for i in scored if i not in wins), key=lambda i: (means[i], i))
        weak_frontier = sorted(
            (i for i in frontier if i not in set(parents)), key=lambda i: (wins[i], means[i], i)
        )
        slots = iter([*unscored, *losers, *weak_frontier])

        pairings = []
        for k, parent in enumerate(parents):
            if k < free:
                pairings.append(Pairing(parent, None))
                continue
            victim = next(slots, None)
            if victim is None:
                break
            pairings.append(Pairing(parent, victim))
        return pairings
