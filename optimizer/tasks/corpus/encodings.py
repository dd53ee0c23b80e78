"""Evasion / obfuscation transforms applied to a share of the payloads.

Each transform is ``(rng, text) -> str`` and is named by the ``meta.encoding`` value it produces.
``ENCODINGS_FOR`` lists the transforms that are meaningful for each label (SQL comments only for
SQL, ``${IFS}`` only for shell, ...). Benign inputs get the generic ones too, so "looks encoded"
is never a shortcut for "is an attack".

Transforms keep the payload's meaning for its target parser (a URL-decoding web server, an HTML
parser, a shell, a SQL engine); ``apply_encoding`` returns the text unchanged with encoding
``none`` when a transform does not change anything.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable
from urllib.parse import quote

from optimizer.tasks.corpus.common import pick

Transform = Callable[[random.Random, str], str]


def url(rng: random.Random, s: str) -> str:
    """Percent-encode reserved characters (what a browser/HTTP client sends)."""
    return quote(s, safe=pick(rng, ("", "/", "/=&", "=")))


def url_full(rng: random.Random, s: str) -> str:
    """Percent-encode every byte, letters included (``%73%65%6c``...)."""
    return "".join(f"%{b:02X}" if rng.random() < 0.9 else f"%{b:02x}" for b in s.encode("utf-8"))


def double_url(rng: random.Random, s: str) -> str:
    return quote(quote(s, safe=""), safe="")


def html_entities(rng: random.Random, s: str) -> str:
    style = pick(rng, ("dec", "hex", "named"))
    if style == "named":
        return html.escape(s, quote=True)
    out = []
    for ch in s:
        if ch.isalnum() and rng.random() < 0.5:
            out.append(ch)
        else:
            out.append(f"&#{ord(ch)};" if style == "dec" else f"&#x{ord(ch):x};")
    return "".join(out)


def unicode_escape(rng: random.Random, s: str) -> str:
    """JSON/JS-style ``\\uXXXX`` escapes of punctuation (and some letters)."""
    return "".join(f"\\u{ord(ch):04x}" if (not ch.isalnum() or rng.random() < 0.2) and ch != " "
                   else ch for ch in s)


_CASE_WORDS = re.compile(r"\b(union|select|from|where|and|or|sleep|order|by|insert|into|drop|"
                         r"table|script|img|svg|iframe|body|onerror|onload|onmouseover|onfocus|"
                         r"javascript|alert|src|href|details|ontoggle|set-cookie|location|"
                         r"content-length|waitfor|delay|concat|group|having|exec)\b", re.I)


def json_safe_escape(rng: random.Random, s: str) -> str:
    """What HTML-safe JSON encoders emit: ``<>&'`` and non-ASCII as ``\\uXXXX`` (benign use)."""
    return "".join(f"\\u{ord(ch):04x}" if ch in "<>&'" or ord(ch) > 127 else ch for ch in s)


def mixed_case(rng: random.Random, s: str) -> str:
    """Randomize the case of case-insensitive keywords only (SQL keywords, HTML tag/attribute
    names, header names), so the payload still works: ``UnIoN SeLeCt``, ``<ScRiPt>``."""
    def rep(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.lower() == "alert":  # JavaScript identifiers are case-sensitive
            return w
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in w)
    return _CASE_WORDS.sub(rep, s)


_SQL_KW = re.compile(r"\b(UNION|SELECT|FROM|WHERE|AND|OR|SLEEP|ORDER|BY|INSERT|INTO|DROP|TABLE|"
                     r"UPDATE|CONCAT|WAITFOR|DELAY|EXEC|LIMIT)\b", re.I)


def sql_comment(rng: random.Random, s: str) -> str:
    """Replace spaces with inline comments or wrap/split keywords.

    Examples: ``UN/**/ION``, ``/*!50000SELECT*/``.
    """
    style = pick(rng, ("space", "versioned", "split"))
    if style == "space":
        return s.replace(" ", pick(rng, ("/**/", "/*x*/", "/*!*/")))
    if style == "versioned":
        return _SQL_KW.sub(lambda m: f"/*!50000{m.group(0)}*/", s)
    return _SQL_KW.sub(lambda m: m.group(0)[:2] + "/**/" + m.group(0)[2:]
                       if len(m.group(0)) > 3 else m.group(0), s)


def sql_whitespace(rng: random.Random, s: str) -> str:
    return s.replace(" ", pick(rng, ("%09", "%0a", "\t", "%0b", "+", "%a0", "\n")))


def sql_concat(rng: random.Random, s: str) -> str:
    """Hex-encode quoted string literals (``'admin'`` -> ``0x61646d696e``) or split them."""
    def rep(m: re.Match[str]) -> str:
        lit = m.group(1)
        if not lit:
            return m.group(0)
        if rng.random() < 0.5:
            return "0x" + lit.encode().hex()
        cut = max(1, len(lit) // 2)
        return pick(rng, (f"CONCAT('{lit[:cut]}','{lit[cut:]}')", f"'{lit[:cut]}'||'{lit[cut:]}'",
                          f"CHAR({','.join(str(ord(c)) for c in lit)})"))
    out = re.sub(r"'([A-Za-z0-9_:~ ]{1,20})'", rep, s)
    return out


def shell_ifs(rng: random.Random, s: str) -> str:
    return s.replace(" ", pick(rng, ("${IFS}", "$IFS$9", "\t", "{,}", "%09", "<")))


def shell_quote(rng: random.Random, s: str) -> str:
    """Break command words with empty quotes or backslashes: ``c'a't``, ``w\\hoami``."""
    def rep(m: re.Match[str]) -> str:
        w = m.group(0)
        i = rng.randrange(1, len(w))
        return w[:i] + pick(rng, ("''", '""', "\\", "$@")) + w[i:]
    return re.sub(r"\b(cat|id|whoami|uname|wget|curl|bash|sh|nc|ping|sleep|ls|python3|passwd)\b",
                  rep, s, count=2)


def path_overlong(rng: random.Random, s: str) -> str:
    dot = pick(rng, ("%c0%ae", "%2e", "%252e", "%u002e"))
    slash = pick(rng, ("%c0%af", "%2f", "%252f", "%u2215", "/", "%5c"))
    return s.replace("../", f"{dot}{dot}{slash}").replace("..\\", f"{dot}{dot}%5c")


def ip_obfuscate(rng: random.Random, s: str) -> str:
    def rep(m: re.Match[str]) -> str:
        parts = [int(p) for p in m.group(0).split(".")]
        if any(p > 255 for p in parts):
            return m.group(0)
        n = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
        return pick(rng, (str(n), hex(n), ".".join(f"0{p:o}" for p in parts)))
    return re.sub(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", rep, s)


def js_concat(rng: random.Random, s: str) -> str:
    """Obfuscate JavaScript calls.

    ``alert(1)`` -> ``window['al'+'ert'](1)`` or ``top[/al/.source+/ert/.source](1)``.
    """
    def rep(m: re.Match[str]) -> str:
        f = m.group(1)
        cut = max(1, len(f) // 2)
        return pick(rng, (f"window['{f[:cut]}'+'{f[cut:]}']",
                          f"top[/{f[:cut]}/.source+/{f[cut:]}/.source]",
                          f"self[`{f}`]", f"(0,{f})"))
    return re.sub(r"\b(alert|prompt|confirm|eval|fetch|print)\b(?=\()", rep, s)


def tag_whitespace(rng: random.Random, s: str) -> str:
    return re.sub(r"<(\w+) ",
                  lambda m: f"<{m.group(1)}{pick(rng, ('/', '%09', '%0a', chr(12), '/x/'))}", s)


TRANSFORMS: dict[str, Transform] = {
    "url": url, "url_full": url_full, "double_url": double_url, "html": html_entities,
    "unicode": unicode_escape, "mixed_case": mixed_case, "comment": sql_comment,
    "whitespace": sql_whitespace, "concat": sql_concat, "ifs": shell_ifs,
                                    "quote_split": shell_quote,
    "overlong": path_overlong, "ip_obfuscation": ip_obfuscate, "js_concat": js_concat,
    "tag_whitespace": tag_whitespace,
}

ENCODINGS_FOR: dict[str, tuple[str, ...]] = {
    "sqli": ("url", "double_url", "mixed_case", "comment", "whitespace", "concat", "url_full"),
    "xss": ("url", "double_url", "html", "unicode", "mixed_case", "js_concat", "tag_whitespace"),
    "cmdi": ("url", "double_url", "ifs", "quote_split"),
    "path_traversal": ("url", "double_url", "overlong", "url_full"),
    "ssrf": ("url", "double_url", "ip_obfuscation"),
    "ssti": ("url", "unicode", "double_url"),
    "xxe": ("url", "unicode"),
    "nosqli": ("url", "unicode", "double_url"),
    "ldapi": ("url", "double_url"),
    "crlf": ("double_url", "unicode", "mixed_case"),
    "benign": ("url", "html", "unicode", "double_url"),
}


_PCT = re.compile(r"%[0-9A-Fa-f]{2}")


def detect_encoding(text: str, label: str = "") -> str:
    """Best-effort name of the encoding a hand-written payload already carries.

    For ``crlf`` a plain ``%0d%0a`` is the canonical form (as generated rows), not an encoding.
    """
    if label == "crlf":
        text = re.sub(r"%0[ad]", "", text, flags=re.I)
    if re.search(r"%25[0-9A-Fa-f]{2}", text):
        return "double_url"
    if re.search(r"%c0%a[ef]|%u[0-9a-fA-F]{4}|%E5%98%8[AD]", text, re.I):
        return "overlong" if "%c0" in text.lower() else "unicode"
    if _PCT.search(text):
        return "url"
    if re.search(r"&(#x?[0-9a-fA-F]+|lt|gt|quot|amp);", text):
        return "html"
    if re.search(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}", text):
        return "unicode"
    if "/**/" in text:
        return "comment"
    if "${IFS}" in text or "''" in text:
        return "ifs" if "${IFS}" in text else "quote_split"
    return "none"


def apply_encoding(rng: random.Random, label: str, text: str) -> tuple[str, str]:
    """Apply one randomly chosen transform meaningful for ``label``; return (text, encoding)."""
    name = pick(rng, ENCODINGS_FOR[label])
    if label == "benign" and name == "unicode":
        out = json_safe_escape(rng, text)
    elif label == "nosqli" and name == "unicode":
        if text[:1] not in "{[":  # \\u0024 only means "$" to a JSON parser
            name = "url"
            out = TRANSFORMS[name](rng, text)
        else:
            out = text.replace("$", "\\u0024")
    elif label == "crlf" and name == "unicode":
        out = text.replace("%0d", "\\u000d").replace("%0a", "\\u000a").replace("%0D", "\\u000d") \
            .replace("%0A", "\\u000a").replace("\r", "\\u000d").replace("\n", "\\u000a")
    elif label == "crlf" and name == "mixed_case":
        out = text.replace("%0d%0a", "%0D%0a").replace("%0D%0A", "%0d%0A").replace("\r\n", "%0D%0a")
    else:
        out = TRANSFORMS[name](rng, text)
    if out == text:
        return text, "none"
    return out, name
