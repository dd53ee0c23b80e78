"""Distilling indicator cues from an input (used by the mutator and the verifier).

Contracts:
- ``decoded(text)`` URL-/HTML-/unicode-decodes and strips SQL comments (the mutator's and the
  verifier's own reading; the task model decodes only what its prompt says).
- ``distil(text, label, have, rng, k)`` returns up to ``k`` cue strings that are real substrings
  of ``decoded(text)``: first indicators of ``label`` from the built-in knowledge, then the most
  distinctive tokens of the attacker-controlled part (symbol-bearing first). Cues already in
  ``have`` (lower-case) are skipped.
"""

from __future__ import annotations

import random
import re

from optimizer.llm.reference.knowledge import find_known
from optimizer.llm.reference.normalize import apply_directives

_STOP = {
    "select",
    "from",
    "where",
    "http",
    "https",
    "www",
    "html",
    "with",
    "this",
    "that",
    "then",
    "value",
    "name",
    "user",
    "true",
    "false",
    "null",
    "test",
    "page",
    "index",
    "search",
}
_TOKEN = re.compile(r"[^\sA-Za-z0-9]{1,3}[A-Za-z_]{0,10}[^\sA-Za-z0-9]{0,2}|[A-Za-z_]{4,20}\(?")


_WRAPPERS = (
    re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}:\s"),  # a header name ("User-Agent: ")
    re.compile(r'"[A-Za-z_][A-Za-z0-9_]{0,30}"\s*:\s*'),  # a JSON key
    re.compile(r"(?:^|[&?;]\s*)[A-Za-z_][A-Za-z0-9_]{0,20}="),  # a form / query / cookie key
    re.compile(r"^/[A-Za-z0-9_/.-]*\?"),  # a path before the query string
)


_JSON_ONLY = frozenset('"{}[],: ')


def _json_only(token: str) -> bool:
    """True for tokens whose only symbols are JSON syntax (``"jazz``, ``"}``)."""
    symbols = {c for c in token if not c.isalnum() and c != "_"}
    return bool(symbols) and _JSON_ONLY.issuperset(symbols)


def core(text: str) -> str:
    """The text without its carrier: header names, JSON keys and form/query keys become spaces,
    so distilled cues come from the values an attacker controls, not from the wrapper."""
    for rx in _WRAPPERS:
        text = rx.sub(" ", text)
    return text


def decoded(text: str) -> str:
    return apply_directives(text, ("url", "html", "unicode", "comments"))


def distil(text: str, label: str, have: set[str], rng: random.Random, k: int) -> list[str]:
    """Up to ``k`` cue strings for ``label`` taken from ``text`` (real substrings)."""
    dec = decoded(text)
    low = dec.lower()
    out: list[str] = []
    for ind in find_known(dec, label):
        i = low.find(ind)
        cue = dec[i : i + len(ind)]
        if cue.lower() not in have and cue.strip() and len(out) < k:
            out.append(cue)
    if len(out) < k:
        toks = [
            t
            for t in _TOKEN.findall(core(dec))
            if t.lower().strip("(") not in _STOP and not _json_only(t)
        ]
        toks = [t for t in toks if t.lower() not in have and len(t.strip()) >= 2]
        scored = sorted(
            set(toks),
            key=lambda t: (-(sum(not c.isalnum() for c in t) + min(len(t), 8) / 4), t),
        )
        if len(scored) > 2 and rng.random() < 0.3:
            scored[0], scored[1] = scored[1], scored[0]
        out.extend(scored[: k - len(out)])
    return out
