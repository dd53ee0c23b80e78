"""Binary tournament selection (Promptbreeder, after Harvey's microbial GA).

One generation shuffles the population with ``rng`` and pairs neighbours, so every unit takes
part in exactly one tournament; with an odd population the last unit after the shuffle sits the
generation out. In each pair the fitter unit is the parent and its child overwrites the loser;
a tie (including two units without fitness) is broken by ``rng``. Missing fitness loses to any
fitness.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from optimizer.selection.base import Pairing, ScoreMatrix
from optimizer.units import Unit

__all__ = ["BinaryTournament"]


def _fitness(unit: Unit) -> float:
    return unit.fitness if unit.fitness is not None else float("-inf")


class BinaryTournament:
    """Pairs every unit once per generation; the winner reproduces into the loser's slot."""

    name = "tournament"

    def plan(
        self,
        population: Sequence[Unit],
        rng: random.Random,
        *,
        scores: ScoreMatrix | None = None,
    ) -> list[Pairing]:
        units = list(population)
        rng.shuffle(units)
        pairings = []
        for a, b in zip(units[0::2], units[1::2], strict=False):
            fa, fb = _fitness(a), _fitness(b)
            # Draw for every pair, tie or not, so one changed fitness does not shift the
            # random stream of every later pair.
            coin = rng.random() < 0.5
            winner, loser = (a, b) if fa > fb or (fa == fb and coin) else (b, a)
            pairings.append(Pairing(parent_id=winner.id, replaces_id=loser.id))
        return pairings
