"""Label names and the phrases a prompt may use for them (synonyms).

Contracts:
- ``find_labels(line)`` returns the canonical labels a line names, in order of first mention,
  using word-bounded, case-insensitive phrase matching (longest phrase first, so
  "NoSQL injection" is nosqli, not sqli).
- ``DEFAULT_LABELS`` is the payload task's label set, used when a request states no label set.
- Labels outside this table still work: a request's own ``Allowed labels`` are matched literally.
"""

from __future__ import annotations

import re
from functools import lru_cache

from optimizer.tasks.payloads import LABELS as _TASK_LABELS

DEFAULT_LABELS: tuple[str, ...] = _TASK_LABELS

SYNONYMS: dict[str, tuple[str, ...]] = {
    "benign": ("benign", "harmless", "safe", "legitimate", "normal input", "no attack"),
    "sqli": ("sqli", "sql injection", "sql-injection", "sql injections"),
    "xss": ("xss", "cross-site scripting", "cross site scripting", "script injection"),
    "cmdi": (
        "cmdi",
        "command injection",
        "os command injection",
        "shell injection",
        "remote command execution",
        "rce",
    ),
    "path_traversal": (
        "path_traversal",
        "path traversal",
        "directory traversal",
        "dot-dot-slash",
        "lfi",
        "local file inclusion",
    ),
    "ssrf": ("ssrf", "server-side request forgery", "server side request forgery"),
    "ssti": ("ssti", "template injection", "server-side template injection"),
    "xxe": ("xxe", "xml external entity", "xml external entities", "external entity"),
    "nosqli": ("nosqli", "nosql injection", "nosql-injection", "mongodb injection"),
    "ldapi": ("ldapi", "ldap injection", "ldap filter injection"),
    "crlf": (
        "crlf",
        "crlf injection",
        "header injection",
        "response splitting",
        "http response splitting",
    ),
}

_PHRASES: list[tuple[str, str]] = sorted(
    ((p, lab) for lab, ps in SYNONYMS.items() for p in ps), key=lambda x: -len(x[0])
)
_PHRASE_RE = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")(?![A-Za-z0-9_])",
    re.I,
)
_BY_PHRASE = {p: lab for p, lab in _PHRASES}

DISPLAY_NAME: dict[str, str] = {
    lab: ps[1] if len(ps) > 1 else ps[0] for lab, ps in SYNONYMS.items()
}


@lru_cache(maxsize=65536)
def find_labels(line: str) -> tuple[str, ...]:
    """Canonical labels named in ``line``, in order of first mention (no duplicates)."""
    out: list[str] = []
    for m in _PHRASE_RE.finditer(line):
        lab = _BY_PHRASE.get(m.group(1).lower())
        if lab is not None and lab not in out:
            out.append(lab)
    return tuple(out)


def first_label_span(line: str) -> tuple[str, int] | None:
    """The first label named in ``line`` and the index just after its mention."""
    m = _PHRASE_RE.search(line)
    if m is None:
        return None
    return _BY_PHRASE[m.group(1).lower()], m.end()


def canonical(label: str, allowed: tuple[str, ...] = ()) -> str | None:
    """Map a label or synonym to a canonical label (an allowed label when given)."""
    text = label.strip().strip("\"'`.,;:").strip()
    low = text.lower()
    for a in allowed:
        if a.lower() == low:
            return a
    found = find_labels(text)
    if found:
        return found[0]
    return low if low in SYNONYMS else None
