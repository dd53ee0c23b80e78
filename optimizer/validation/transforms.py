"""Deterministic evasion transforms, each with a check that the attack is preserved.

Contracts:
- ``TRANSFORMS[name]`` is a ``Transform``: ``apply(text, rng) -> variant`` is a pure function of
  (text, rng state); ``restore(variant)`` undoes it up to an equivalence that the attacked
  interpreter shares (URL/HTML/unicode decoding, SQL comments = whitespace, case-insensitive
  keywords, shell quote removal, path-encoding variants), and ``canonical(text)`` puts the
  original in the same form. ``preserves(name, original, variant)`` is
  ``restore(variant) == canonical(original)``: the variant is the same attack in disguise.
- ``apply`` returns the text unchanged when the transform has nothing to rewrite (no space for
  ``sql_comments``, no ``../`` for ``path_encoding``...); callers skip such no-op variants.
- Only ASCII characters are rewritten by the encoders, so decoding is an exact inverse (HTML
  references to C1 controls and NUL do not round-trip, see ``html.unescape``).
- ``SUITED[label]`` lists the transforms that make sense for an attack family.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = ["SUITED", "TRANSFORMS", "Transform", "preserves", "suited", "transform_names"]


@dataclass(frozen=True)
class Transform:
    name: str
    apply: Callable[[str, random.Random], str]
    restore: Callable[[str], str]
    canonical: Callable[[str], str]


def _identity(text: str) -> str:
    return text


# -- encodings (exact inverses) ---------------------------------------------------------------


def _url(text: str, rng: random.Random) -> str:
    return quote(text, safe="", errors="surrogatepass")


def _url_restore(text: str) -> str:
    return unquote(text, errors="surrogatepass")


def _double_url(text: str, rng: random.Random) -> str:
    return quote(_url(text, rng), safe="")


def _double_url_restore(text: str) -> str:
    return _url_restore(unquote(text))


def _encodable(c: str) -> bool:
    return 0 < ord(c) < 128 and c != "\r"


def _html(text: str, rng: random.Random) -> str:
    out = []
    for c in text:
        if _encodable(c) and (not c.isalnum() or rng.random() < 0.3):
            out.append(f"&#x{ord(c):x};" if rng.random() < 0.5 else f"&#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)


def _html_restore(text: str) -> str:
    return html.unescape(text)


def _html_canonical(text: str) -> str:
    # '&' is always encoded, so references already in the original survive one unescape only
    # if we compare against the original itself
    return text


def _unicode(text: str, rng: random.Random) -> str:
    return "".join(f"\\u{ord(c):04x}" if _encodable(c) and not c.isalnum() else c for c in text)


_UESC = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unicode_restore(text: str) -> str:
    return _UESC.sub(lambda m: chr(int(m.group(1), 16)), text)


# -- structural rewrites (equivalences) -------------------------------------------------------


def _case(text: str, rng: random.Random) -> str:
    return "".join(
        (c.upper() if rng.random() < 0.5 else c.lower()) if c.isascii() and c.isalpha() else c
        for c in text
    )


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _sql_comments(text: str, rng: random.Random) -> str:
    return re.sub(r" +", lambda _: rng.choice(("/**/", "/**/", "/*x*/")), text)


_COMMENT = re.compile(r"/\*[a-z]?\*/")


def _sql_restore(text: str) -> str:
    return re.sub(r" +", " ", _COMMENT.sub(" ", text))


_WS_ALTS = ("\t", "\n", "\x0b", "\x0c", "  ")


def _whitespace(text: str, rng: random.Random) -> str:
    return re.sub(" ", lambda _: rng.choice(_WS_ALTS), text)


def _ws_restore(text: str) -> str:
    return re.sub(r"[ \t\n\x0b\x0c]+", " ", text)


_QUOTED_WORD = re.compile(r"(?<=')([A-Za-z0-9_]{4,})(?=')")


def _concatenation(text: str, rng: random.Random) -> str:
    def split(m: re.Match[str]) -> str:
        w = m.group(1)
        k = len(w) // 2
        return f"{w[:k]}'||'{w[k:]}" if rng.random() < 0.5 else f"{w[:k]}'+'{w[k:]}"

    return _QUOTED_WORD.sub(split, text)


_JOIN = re.compile(r"([A-Za-z0-9_])'(?:\|\||\+)'([A-Za-z0-9_])")


def _concat_restore(text: str) -> str:
    prev = None
    while prev != text:
        prev, text = text, _JOIN.sub(r"\1\2", text)
    return text


_COMMANDS = re.compile(
    r"\b(cat|ls|id|whoami|wget|curl|nc|bash|sh|uname|ping|echo|passwd|etc|tmp|rm|python)\b"
)


def _shell(text: str, rng: random.Random) -> str:
    def q(m: re.Match[str]) -> str:
        w = m.group(0)
        k = rng.randrange(1, len(w)) if len(w) > 1 else 1
        return w[:k] + rng.choice(("''", '""', "\\")) + w[k:]

    out = _COMMANDS.sub(q, text)
    return out.replace(" ", "${IFS}") if rng.random() < 0.5 else out


_SH_QUOTES = re.compile(r"(?<=[A-Za-z0-9])(?:''|\"\"|\\)(?=[A-Za-z0-9])")


def _shell_restore(text: str) -> str:
    return _SH_QUOTES.sub("", text.replace("${IFS}", " "))


_DOTDOT = re.compile(r"\.\./")
_PATH_ALTS = ("..%2f", "%2e%2e/", "%2e%2e%2f", "..%252f", "%252e%252e%252f", "..\\")


def _path(text: str, rng: random.Random) -> str:
    return _DOTDOT.sub(lambda _: rng.choice(_PATH_ALTS), text)


def _path_restore(text: str) -> str:
    out = re.sub(r"%25(2[eEfF])", r"%\1", text)
    out = re.sub(r"%2[eE]", ".", out)
    out = re.sub(r"%2[fF]", "/", out)
    return out.replace("\\", "/")


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("url", _url, _url_restore, _identity),
        Transform("double_url", _double_url, _double_url_restore, _identity),
        Transform("html_entities", _html, _html_restore, _html_canonical),
        Transform("unicode_escapes", _unicode, _unicode_restore, _identity),
        Transform("case_mixing", _case, _ascii_lower, _ascii_lower),
        Transform("sql_comments", _sql_comments, _sql_restore, _sql_restore),
        Transform("whitespace", _whitespace, _ws_restore, _ws_restore),
        Transform("concatenation", _concatenation, _concat_restore, _concat_restore),
        Transform("shell_quoting", _shell, _shell_restore, _shell_restore),
        Transform("path_encoding", _path, _path_restore, _path_restore),
    )
}

SUITED: dict[str, tuple[str, ...]] = {
    "sqli": ("sql_comments", "case_mixing", "url", "double_url", "whitespace", "concatenation"),
    "xss": ("case_mixing", "html_entities", "url", "double_url", "unicode_escapes"),
    "cmdi": ("shell_quoting", "url", "double_url"),
    "path_traversal": ("path_encoding", "url", "double_url"),
    "ssrf": ("url", "double_url"),
    "ssti": ("url", "double_url", "whitespace"),
    "xxe": ("url", "double_url"),
    "nosqli": ("url", "double_url", "unicode_escapes"),
    "ldapi": ("url", "double_url"),
    "crlf": ("url", "double_url"),
}
GENERIC: tuple[str, ...] = ("url", "double_url")


def transform_names() -> tuple[str, ...]:
    return tuple(TRANSFORMS)


def suited(label: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Transforms suited to ``label`` (restricted to ``allowed`` when given), in table order."""
    names = SUITED.get(label, GENERIC)
    return tuple(n for n in names if allowed is None or n in allowed)


def preserves(name: str, original: str, variant: str) -> bool:
    """True when ``variant`` restores to the same attack as ``original`` under ``name``."""
    t = TRANSFORMS[name]
    return t.restore(variant) == t.canonical(original)
