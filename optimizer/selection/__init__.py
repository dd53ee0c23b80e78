"""Selection strategies: binary tournament (Promptbreeder) and per-example Pareto (GEPA).

``SELECTORS`` maps registry names to classes; ``make_selector(name, **params)`` builds one from
config params. See ``base.py`` for the ``Selector`` contract.
"""

from __future__ import annotations

from typing import Any

from optimizer.errors import ConfigError
from optimizer.selection.base import Pairing, ScoreMatrix, Selector
from optimizer.selection.pareto import ParetoSelector, pareto_frontier
from optimizer.selection.tournament import BinaryTournament

__all__ = [
    "SELECTORS",
    "BinaryTournament",
    "Pairing",
    "ParetoSelector",
    "ScoreMatrix",
    "Selector",
    "make_selector",
    "pareto_frontier",
]

SELECTORS: dict[str, type] = {
    BinaryTournament.name: BinaryTournament,
    ParetoSelector.name: ParetoSelector,
}


def make_selector(name: str, **params: Any) -> Selector:
    """Instantiate selector ``name``; ``ConfigError`` on an unknown name or bad params."""
    try:
        cls = SELECTORS[name]
    except KeyError:
        raise ConfigError(
            f"unknown selector {name!r}; available: {', '.join(sorted(SELECTORS))}"
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"bad params for selector {name!r}: {exc}") from None
