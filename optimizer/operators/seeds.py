"""Seed lists shipped as package data: ``seeds/<name>.txt``, one entry per line.

Blank lines and lines starting with ``#`` are ignored. Built-in lists: ``mutation_prompts``
(meta-instructions for the mutation model) and ``thinking_styles`` (Promptbreeder's cognitive
heuristics, used by zero-order hypermutation and initialization). Both were written for this
project, inspired by the Promptbreeder paper's appendices, with a security-classification slant.
"""

from __future__ import annotations

import functools
from importlib import resources

from optimizer.errors import ConfigError

__all__ = ["SEED_LISTS", "load_seed_list"]

SEED_LISTS = ("mutation_prompts", "thinking_styles")


@functools.cache
def load_seed_list(name: str) -> tuple[str, ...]:
    """The entries of seed list ``name`` in file order.

    Raises:
        ConfigError: no such list (the message names the available ones).
    """
    path = resources.files("optimizer.operators").joinpath("seeds", f"{name}.txt")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"unknown seed list {name!r}; available: {', '.join(SEED_LISTS)}"
        ) from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
