"""Decoders and normalizers that a prompt can ask the task model to apply.

Contracts:
- Each directive name in ``DIRECTIVES`` maps to a pure ``str -> str`` function that never raises.
- ``apply_directives`` applies the named directives in a fixed order (decoders first, then
  comment stripping, whitespace collapsing, and case folding last), whatever order the prompt
  stated them in. Unknown names are ignored.
- ``detect_encodings`` reports which encodings a text visibly uses (used by the mutator and the
  adversary; the task model only decodes what its prompt tells it to).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote_plus

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]{2,8});?")
_UESC = re.compile(r"\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})|%u([0-9A-Fa-f]{4})")
_SQL_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_WS = re.compile(r"\s+")


def url_decode(text: str) -> str:
    """Percent-decode up to twice (handles double encoding); '+' becomes a space."""
    out = text
    for _ in range(2):
        if not _PCT.search(out):
            break
        try:
            out = unquote_plus(out, errors="replace")
        except Exception:  # never raise from a decoder
            break
    return out


def html_decode(text: str) -> str:
    """Decode HTML character references (named, decimal, hex)."""
    if "&" not in text:
        return text
    try:
        return html.unescape(text)
    except Exception:
        return text


def _uesc(m: re.Match[str]) -> str:
    code = m.group(1) or m.group(2) or m.group(3)
    try:
        return chr(int(code, 16))
    except ValueError:
        return m.group(0)


def unicode_decode(text: str) -> str:
    r"""Decode ``\uXXXX``, ``\xXX`` and ``%uXXXX`` escapes."""
    if "\\" not in text and "%u" not in text:
        return text
    return _UESC.sub(_uesc, text)


def strip_comments(text: str) -> str:
    """Remove SQL inline comments ``/* ... */`` (a comment between words becomes a space)."""
    if "/*" not in text:
        return text
    return _SQL_COMMENT.sub(" ", text)


def collapse_whitespace(text: str) -> str:
    """Replace runs of whitespace (tabs, newlines, ...) with one space."""
    return _WS.sub(" ", text)


def lower(text: str) -> str:
    return text.lower()


DIRECTIVES: dict[str, Callable[[str], str]] = {
    "url": url_decode,
    "html": html_decode,
    "unicode": unicode_decode,
    "comments": strip_comments,
    "whitespace": collapse_whitespace,
    "case": lower,
}
ORDER: tuple[str, ...] = tuple(DIRECTIVES)


def apply_directives(text: str, directives: Iterable[str]) -> str:
    """Apply the named directives in the fixed order of ``ORDER``."""
    wanted = set(directives)
    for name in ORDER:
        if name in wanted:
            text = DIRECTIVES[name](text)
    return text


def detect_encodings(text: str) -> list[str]:
    """Names of the encodings ``text`` visibly uses: url, html, unicode, comments, case."""
    found: list[str] = []
    if len(_PCT.findall(text)) >= 2:
        found.append("url")
    if _ENTITY.search(text):
        found.append("html")
    if _UESC.search(text):
        found.append("unicode")
    if "/*" in text and "*/" in text:
        found.append("comments")
    letters = [c for c in text if c.isalpha()]
    if (
        len(letters) >= 6
        and any(c.isupper() for c in letters)
        and any(c.islower() for c in letters)
    ):
        words = re.findall(r"[A-Za-z]{4,}", text)
        if any(w[1:] != w[1:].lower() and w[1:] != w[1:].upper() for w in words):
            found.append("case")
    return found
