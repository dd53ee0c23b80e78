"""Where a payload sits in the request: the carrier around the raw value.

``wrap(rng, label, value)`` returns ``(text, context)`` with ``context`` one of ``bare`` (the
parameter value alone, as a WAF sees one ARGS value), ``query`` (``name=value`` pairs or a
path with a query string), ``json`` (a JSON body field), ``form`` (an urlencoded-form body as a
log shows it, not re-encoded), ``header`` (``Name: value``), ``cookie`` or ``path``.
Parameter and header names are chosen per label so the carrier looks like the real thing
(``file=`` for traversal, ``url=`` for SSRF). Values already shaped as a whole body (XML
documents, query strings, JSON) stay bare or are nested as JSON.
"""

from __future__ import annotations

import json
import random

from optimizer.tasks.corpus.common import FILE_PARAMS, PARAMS, URL_PARAMS, pick, rand_int, rand_word

NAMES_FOR: dict[str, tuple[str, ...]] = {
    "sqli": PARAMS,
    "xss": (*PARAMS[:12], "comment", "message", "bio", "title", "redirect", "display_name"),
    "cmdi": ("host", "ip", "cmd", "ping", "domain", "filename", "addr", "target", "exec", "dir"),
    "path_traversal": FILE_PARAMS,
    "ssrf": URL_PARAMS,
    "ssti": ("name", "template", "greeting", "preview", "subject", "msg", "title", "email"),
    "nosqli": ("username", "user", "password", "filter", "where", "q", "id", "token"),
    "ldapi": ("user", "username", "uid", "cn", "login", "search", "filter", "member"),
    "crlf": ("url", "redirect", "lang", "next", "return", "page", "q", "ref", "email"),
    "xxe": ("xml", "data", "payload", "body"),
    "benign": (*PARAMS, "url", "file", "next", "comment", "message", "address", "phone"),
}
HEADERS_FOR: dict[str, tuple[str, ...]] = {
    "sqli": ("User-Agent", "Referer", "X-Forwarded-For", "X-Api-Key"),
    "xss": ("Referer", "User-Agent"),
    "cmdi": ("User-Agent", "X-Forwarded-For"),
    "ssti": ("User-Agent", "X-Api-Version", "Referer"),
}
# (context, weight); contexts absent for a label are skipped.
_CONTEXT_WEIGHTS = (("bare", 40), ("query", 24), ("json", 12), ("form", 10), ("header", 6),
                    ("cookie", 4), ("path", 4))
_NO_PATH = {"xxe", "nosqli", "ldapi", "benign"}


def _is_json(value: str) -> bool:
    if value[:1] not in "{[":
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _filler(rng: random.Random) -> str:
    return pick(rng, (f"page={rand_int(rng, 1, 20)}", f"sort={pick(rng, ('asc', 'desc', 'price'))}",
                      f"lang={pick(rng, ('en', 'de', 'fr', 'es'))}",
                      f"limit={pick(rng, (10, 25, 50))}",
                      f"ref={rand_word(rng)}", f"v={rand_int(rng, 1, 5)}", "debug=false"))


def wrap(rng: random.Random, label: str, value: str) -> tuple[str, str]:
    """Put ``value`` into a randomly chosen carrier suitable for ``label``."""
    if label == "xxe" or ("\n" in value and label != "crlf"):
        return value, "bare"
    if _is_json(value):
        if rng.random() < 0.5:
            return value, "bare"
        outer = {pick(rng, ("filter", "query", "where", "selector", "data")): json.loads(value),
                 "limit": rand_int(rng, 1, 100)}
        return json.dumps(outer, ensure_ascii=False), "json"
    if "&" in value and "=" in value:  # already a query string / form body
        return value, "bare"
    ctxs = [(c, w) for c, w in _CONTEXT_WEIGHTS
            if not (c == "header" and label not in HEADERS_FOR)
            and not (c == "path" and label in _NO_PATH)]
    total = sum(w for _, w in ctxs)
    x = rng.uniform(0, total)
    ctx = ctxs[-1][0]
    for c, w in ctxs:
        x -= w
        if x <= 0:
            ctx = c
            break
    name = pick(rng, NAMES_FOR.get(label, PARAMS))
    if ctx == "bare":
        return value, ctx
    if ctx == "query":
        style = rng.randrange(3)
        if style == 0:
            return f"{name}={value}", ctx
        if style == 1:
            return f"{_filler(rng)}&{name}={value}&{_filler(rng)}", ctx
        route = pick(rng, ("/search", "/index.php", "/api/v1/items", "/view", "/products",
                           "/profile"))
        return f"{route}?{name}={value}", ctx
    if ctx == "json":
        body = {name: value}
        if rng.random() < 0.6:
            extra = pick(rng, ("page", "limit", "version"))
            body[extra if extra != name else "v"] = rand_int(rng, 1, 50)
        return json.dumps(body, ensure_ascii=False), ctx
    if ctx == "form":
        tail = pick(rng, ("submit=Send", "action=save", "csrf=" + str(rand_int(rng))))
        return f"{name}={value}&{tail}", ctx
    if ctx == "header":
        return f"{pick(rng, HEADERS_FOR[label])}: {value}", ctx
    if ctx == "cookie":
        first = pick(rng, ("sid", "session", "pref", "cart"))
        return f"Cookie: {first}={rand_int(rng)}; {name}={value}", ctx
    route = pick(rng, ("/download/", "/files/", "/static/", "/view/", "/api/v2/resource/", "/img/"))
    return f"{route}{value}", "path"
