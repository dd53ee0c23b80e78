"""Built-in attack knowledge of the reference model (what a general LLM "knows").

Written by hand from general web-security knowledge (OWASP cheat sheets level), not derived from
any dataset of this project. It is deliberately SMALL and INCOMPLETE: a handful of well-known
indicators per family, so that a prompt optimizer still has to discover cues from failures.

Contracts:
- ``INDICATORS[label]`` is a tuple of lower-case indicator strings, most telling first.
- The task role does not use this table (a task model only knows what its prompt says); the
  mutator uses it to prefer well-known tokens when distilling cues from failures and to write
  zero-order prompts; the verifier and the adversary use it for their own reading.
- ``find_known(text, label)`` returns the indicators of ``label`` found in ``text``
  (case-insensitive), in table order.
"""

from __future__ import annotations

from functools import lru_cache

INDICATORS: dict[str, tuple[str, ...]] = {
    "sqli": (
        "union select",
        "' or '1'='1",
        "or 1=1",
        "' or ",
        "information_schema",
        "sleep(",
        "benchmark(",
        "waitfor delay",
        "drop table",
        "@@version",
        "order by",
        "' and ",
        "xp_cmdshell",
        "pg_sleep",
        "--",
    ),
    "xss": (
        "<script",
        "javascript:",
        "onerror=",
        "onload=",
        "alert(",
        "<svg",
        "<img",
        "<iframe",
        "document.cookie",
        "onmouseover=",
        "fromcharcode",
    ),
    "cmdi": (
        "; ls",
        "| cat ",
        "cat /etc/passwd",
        "/bin/sh",
        "/bin/bash",
        "$(",
        "`",
        "&& ",
        "; id",
        "| id",
        "whoami",
        "wget ",
        "nc -e",
        "${ifs}",
        "uname -a",
    ),
    "path_traversal": (
        "../",
        "..\\",
        "..%2f",
        "%2e%2e",
        "/etc/passwd",
        "boot.ini",
        "win.ini",
        "/proc/self/",
        "....//",
    ),
    "ssrf": (
        "http://127.0.0.1",
        "http://localhost",
        "169.254.169.254",
        "metadata.google.internal",
        "gopher://",
        "dict://",
        "http://0.0.0.0",
        "http://[::1]",
        "http://10.",
        "http://192.168.",
    ),
    "ssti": (
        "{{",
        "{%",
        "__class__",
        "__mro__",
        "__subclasses__",
        "__globals__",
        "<%=",
        "#{",
        "${7*7}",
        "config.items",
    ),
    "xxe": ("<!entity", "<!doctype", 'system "file:', 'system "http', "file:///", "%xxe;"),
    "nosqli": ("$ne", "$gt", "$where", "$regex", "[$ne]", "$or", "$nin", "this.password"),
    "ldapi": ("*)(", ")(|", "(|(", "*))", "(&(", "objectclass=*", ")(uid=", ")(cn="),
    "crlf": ("%0d%0a", "\r\n", "%0a", "set-cookie:", "location:", "\\r\\n", "content-length:"),
}

FAMILY_NAMES: dict[str, str] = {
    "sqli": "SQL injection",
    "xss": "cross-site scripting",
    "cmdi": "OS command injection",
    "path_traversal": "path traversal / local file inclusion",
    "ssrf": "server-side request forgery",
    "ssti": "server-side template injection",
    "xxe": "XML external entity",
    "nosqli": "NoSQL injection",
    "ldapi": "LDAP injection",
    "crlf": "CRLF / HTTP header injection",
    "benign": "benign (no attack)",
}


@lru_cache(maxsize=16384)
def find_known(text: str, label: str) -> tuple[str, ...]:
    """Indicators of ``label`` found in ``text`` (case-insensitive), in table order."""
    low = text.lower()
    return tuple(ind for ind in INDICATORS.get(label, ()) if ind in low)


def best_known(text: str, labels: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """The label with the most (length-weighted) known indicators in ``text``, and its hits."""
    best: tuple[float, str | None, tuple[str, ...]] = (0.0, None, ())
    for lab in labels:
        hits = find_known(text, lab)
        if hits:
            score = sum(min(2.5, 0.8 + 0.12 * len(h)) for h in hits)
            if score > best[0]:
                best = (score, lab, hits)
    return best[1], best[2]
