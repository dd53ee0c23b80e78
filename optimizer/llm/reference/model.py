"""PLACEHOLDER: replaced by the real reference model. Signature is the contract."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def count_tokens(text: str) -> int:
    """Approximate token count (~4 characters per token, at least 1 for non-empty text)."""
    return (len(text) + 3) // 4


class ReferenceModel:
    """Deterministic prompt-conditioned model; ``respond`` never raises."""

    def respond(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> str:
        return "benign"
