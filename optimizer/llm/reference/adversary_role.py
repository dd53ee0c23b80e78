"""The adversary role: rewrites an attack payload with evasion transforms.

Contracts:
- ``TRANSFORMS`` maps a transform name to a pure ``(text, rng) -> text`` rewrite. Requested
  transforms (``TRANSFORMS: a, b`` in the request) are applied when known; otherwise one or two
  transforms suited to the label are chosen with ``rng`` (SHA-256 seeded at temperature 0).
- Answer: ``TRANSFORMS: <comma list>`` then the rewrite between ``REWRITE`` marker lines (see
  optimizer/tasks/render.py), or JSON ``{"payload": ..., "transforms": [...]}``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from urllib.parse import quote

from optimizer.tasks.render import delimit


def url(text: str, rng: random.Random) -> str:
    return quote(text, safe="", errors="surrogatepass")


def double_url(text: str, rng: random.Random) -> str:
    return quote(quote(text, safe="", errors="surrogatepass"), safe="")


def html_entities(text: str, rng: random.Random) -> str:
    return "".join(f"&#{ord(c)};" if not c.isalnum() or rng.random() < 0.3 else c for c in text)


def unicode_escapes(text: str, rng: random.Random) -> str:
    return "".join(f"\\u{ord(c):04x}" if not c.isalnum() else c for c in text)


def case_mixing(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c.lower() for c in text)


def sql_comments(text: str, rng: random.Random) -> str:
    return re.sub(r" +", "/**/", text)


def whitespace(text: str, rng: random.Random) -> str:
    return re.sub(r" ", lambda _: rng.choice(("\t", "\n", "%09", "%0a", "  ")), text)


def concatenation(text: str, rng: random.Random) -> str:
    def split(m: re.Match[str]) -> str:
        w = m.group(0)
        k = len(w) // 2
        return f"'{w[:k]}'||'{w[k:]}'" if rng.random() < 0.5 else f"CONCAT('{w[:k]}','{w[k:]}')"

    return re.sub(r"(?<=')[A-Za-z]{4,}(?=')", lambda m: split(m)[1:-1], text)


def shell_quoting(text: str, rng: random.Random) -> str:
    def q(m: re.Match[str]) -> str:
        w = m.group(0)
        return w[0] + rng.choice(("''", '""', "\\")) + w[1:]

    out = re.sub(r"\b(cat|ls|id|whoami|wget|curl|nc|bash|sh|uname|ping)\b", q, text)
    return out if out != text else text.replace(" ", "${IFS}")


TRANSFORMS: dict[str, Callable[[str, random.Random], str]] = {
    "url": url,
    "double_url": double_url,
    "html_entities": html_entities,
    "unicode_escapes": unicode_escapes,
    "case_mixing": case_mixing,
    "sql_comments": sql_comments,
    "whitespace": whitespace,
    "concatenation": concatenation,
    "shell_quoting": shell_quoting,
}
SUITED: dict[str, tuple[str, ...]] = {
    "sqli": ("sql_comments", "case_mixing", "url", "whitespace", "concatenation"),
    "xss": ("case_mixing", "html_entities", "url", "unicode_escapes"),
    "cmdi": ("shell_quoting", "url", "whitespace"),
    "path_traversal": ("url", "double_url", "unicode_escapes"),
}
GENERIC = ("url", "double_url", "case_mixing", "unicode_escapes")
_ORDER = tuple(TRANSFORMS)


def rewrite(
    payload: str, label: str, requested: list[str], rng: random.Random, as_json: bool
) -> str:
    names = [
        n
        for n in (r.strip().lower().replace("-", "_").replace(" ", "_") for r in requested)
        if n in TRANSFORMS
    ]
    if not names:
        pool = list(SUITED.get(label, GENERIC))
        names = [rng.choice(pool)]
        if rng.random() < 0.5:
            second = rng.choice(pool)
            if second != names[0]:
                names.append(second)
    # structure-changing transforms first, encodings last
    names.sort(
        key=lambda n: (
            n in ("url", "double_url", "html_entities", "unicode_escapes"),
            _ORDER.index(n),
        )
    )
    text = payload
    for n in names:
        text = TRANSFORMS[n](text, rng)
    if as_json:
        return json.dumps({"payload": text, "transforms": names})
    return f"TRANSFORMS: {', '.join(names)}\n{delimit(text, 'REWRITE')}"
