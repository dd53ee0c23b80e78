"""Token counting, stable hashing and character n-grams for the reference model.

Contracts:
- ``count_tokens`` approximates an LLM tokenizer: ~4 characters per token, at least 1 for
  non-empty text, 0 for empty text. It is cheap and deterministic.
- ``stable_u64`` / ``stable_unit`` hash strings with SHA-256 (never Python's salted ``hash``),
  so every deterministic decision is identical across processes and machines.
- ``ngrams`` returns the set of character trigrams of a text (padded, so short texts work).
"""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

_SEP = "\x1f"


def count_tokens(text: str) -> int:
    """Approximate token count (~4 characters per token, at least 1 for non-empty text)."""
    if not text:
        return 0
    return max(1, (len(text) + 3) // 4)


def stable_u64(*parts: object) -> int:
    """A 64-bit integer from SHA-256 of the parts (joined with a separator)."""
    data = _SEP.join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def stable_unit(*parts: object) -> float:
    """A float in [0, 1) derived from SHA-256 of the parts."""
    return stable_u64(*parts) / 2.0**64


def make_rng(*parts: object) -> random.Random:
    """An explicit ``random.Random`` seeded from SHA-256 of the parts."""
    return random.Random(stable_u64(*parts))


@lru_cache(maxsize=8192)
def ngrams(text: str, n: int = 3) -> frozenset[str]:
    """Character n-grams of ``text`` (lower-cased, padded with spaces)."""
    padded = f" {text.lower()} "
    if len(padded) <= n:
        return frozenset((padded,))
    return frozenset(padded[i : i + n] for i in range(len(padded) - n + 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two n-gram sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))
