"""Mutation operators (Promptbreeder's nine plus GEPA's reflective mutation) and their registry.

``OPERATORS`` maps each registry name to its class; the engine builds instances with
``make_operator(name, **params)`` (params come from the config) and picks one per replication
with ``choose_operator(weights, rng)``. A plugin registers an operator class with
``register_operator`` (the same path the built-ins use). See ``base.py`` for the contract.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from optimizer.errors import ConfigError
from optimizer.operators.base import LLMCall, MutationContext, MutationOperator
from optimizer.operators.direct import FirstOrder, Lamarckian, Reflective, ZeroOrder
from optimizer.operators.distribution import EDA, EDARankIndex, Lineage
from optimizer.operators.hyper import FirstOrderHyper, ZeroOrderHyper
from optimizer.operators.recombination import ContextShuffle, Crossover
from optimizer.operators.seeds import load_seed_list

__all__ = [
    "OPERATORS",
    "LLMCall",
    "MutationContext",
    "MutationOperator",
    "choose_operator",
    "load_seed_list",
    "make_operator",
    "register_operator",
]

OPERATORS: dict[str, type] = {
    cls.name: cls
    for cls in (
        ZeroOrder,
        FirstOrder,
        EDA,
        EDARankIndex,
        Lineage,
        ZeroOrderHyper,
        FirstOrderHyper,
        Lamarckian,
        Crossover,
        ContextShuffle,
        Reflective,
    )
}


def _available() -> str:
    return ", ".join(sorted(OPERATORS))


def register_operator(cls: type) -> type:
    """Add an operator class (it must have a ``name`` class attribute); usable as a decorator."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"operator class {cls.__name__} needs a non-empty `name` class attribute")
    OPERATORS[name] = cls
    return cls


def make_operator(name: str, **params: Any) -> MutationOperator:
    """Instantiate operator ``name`` with its config params.

    Raises:
        ConfigError: unknown name (the message lists the available ones) or bad params.
    """
    try:
        cls = OPERATORS[name]
    except KeyError:
        raise ConfigError(f"unknown operator {name!r}; available: {_available()}") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"bad params for operator {name!r}: {exc}") from None


def choose_operator(weights: Mapping[str, float], rng: random.Random) -> str:
    """Draw one operator name with probability proportional to its weight.

    Names are taken in sorted order, so the draw depends only on the weights and the RNG state,
    not on the mapping's insertion order. Zero weights are allowed (the operator is off).

    Raises:
        ConfigError: an unknown name, a negative or non-finite weight, or all weights zero.
    """
    unknown = sorted(set(weights) - set(OPERATORS))
    if unknown:
        raise ConfigError(
            f"unknown operator(s) {', '.join(map(repr, unknown))}; available: {_available()}"
        )
    names = sorted(weights)
    values = [float(weights[n]) for n in names]
    if any(not (v >= 0.0 and v != float("inf")) for v in values):
        raise ConfigError("operator weights must be finite and >= 0")
    if sum(values) <= 0.0:
        raise ConfigError("at least one operator needs a weight > 0")
    return rng.choices(names, weights=values, k=1)[0]
