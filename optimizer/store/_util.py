"""Small helpers of the store: content hash of a candidate, code version, choice checks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from optimizer.errors import StoreError
from optimizer.llm.types import content_hash


def candidate_hash(text: str, mutation_prompt: str = "", context: Sequence[Any] = ()) -> str:
    """The content hash of a candidate (SHA-256 of canonical JSON of its three parts)."""
    return content_hash(
        {"text": text, "mutation_prompt": mutation_prompt, "context": list(context)}
    )


@lru_cache(maxsize=1)
def current_code_version() -> str:
    """``<package version>`` plus ``+g<git sha>`` when running from a git checkout."""
    from optimizer import __version__

    git = Path(__file__).resolve().parents[2] / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            ref_file = git / ref
            if ref_file.exists():
                head = ref_file.read_text().strip()
            else:
                packed = (git / "packed-refs").read_text().splitlines()
                head = next(ln.split()[0] for ln in packed if ln.endswith(" " + ref))
        return f"{__version__}+g{head[:12]}"
    except (OSError, StopIteration):
        return __version__


def check_choice(value: str, allowed: Collection[str], what: str) -> None:
    if value not in allowed:
        raise StoreError(f"unknown {what} {value!r}; use one of {', '.join(sorted(allowed))}")
