"""Explicit, derivable randomness.

Every random decision of a run draws from ``derive(seed, *parts)``: a ``random.Random`` seeded
by SHA-256 of the run seed and a path such as ``("gen", 3, "slot", 5)``. Nothing carries RNG
state between generations, so a resumed run makes exactly the decisions an uninterrupted run
makes, whatever happened to the process in between; concurrent proposals do not share an RNG,
so their completion order cannot change the outcome.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit integer seed derived from the run seed and a path of parts."""
    text = "/".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def derive(seed: int, *parts: object) -> random.Random:
    """A fresh ``random.Random`` for one decision point."""
    return random.Random(derive_seed(seed, *parts))
