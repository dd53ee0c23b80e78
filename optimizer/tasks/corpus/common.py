"""Shared record type, the split-aware variant picker and vocabularies for the generator.

Contracts:
- every template function has the signature ``(rng: random.Random) -> str`` and uses only the
  ``rng`` it is given (never global random state), so the corpus is reproducible from a seed;
- every template calls ``vpick`` exactly once, for its main structural choice (the *variant*).
  A variant is the unit of splitting: ``(label, template, variant index)`` is owned by exactly one
  of train/dev/test (``owned_variants``), so near-duplicates (same variant, other random
  parameters, carrier or encoding) never straddle those splits, while every template (technique)
  still appears in every split that owns at least one of its variants.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")

Template = Callable[[random.Random], str]


@dataclass(slots=True)
class Sample:
    """One generated or hand-written payload before it is assigned an id and a split."""

    payload: str
    label: str
    template: str
    encoding: str = "none"
    context: str = "bare"
    source: str = "generator"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "family": self.label,
            "template": self.template,
            "encoding": self.encoding,
            "context": self.context,
            "source": self.source,
        }
        if self.note:
            out["note"] = self.note
        out.update(self.extra)
        return out


def pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[rng.randrange(len(items))]


SPLIT_SHARES: tuple[tuple[str, float], ...] = (("train", 0.45), ("dev", 0.22), ("test", 0.33))


class NoVariant(Exception):
    """The current split owns no variant of this template (the caller draws another template)."""


class SplitRandom(random.Random):
    """A ``random.Random`` that restricts ``vpick`` to the variants owned by one split.

    ``split=None`` (the regression draw) allows every variant. After a template ran,
    ``variant`` holds the index ``vpick`` chose (None if the template never called it).
    """

    def __init__(self, seed: str, *, corpus_seed: int, split: str | None) -> None:
        super().__init__(seed)
        self.corpus_seed = corpus_seed
        self.split = split
        self.template_key = ""
        self.variant: int | None = None


@lru_cache(maxsize=4096)
def owned_variants(corpus_seed: int, template_key: str, n: int, split: str) -> tuple[int, ...]:
    """Indices of the ``n`` variants of ``template_key`` that ``split`` owns (may be empty)."""
    order = list(range(n))
    random.Random(f"{corpus_seed}:variants:{template_key}:{n}").shuffle(order)
    n_train = max(1, round(n * SPLIT_SHARES[0][1]))
    n_dev = round(n * SPLIT_SHARES[1][1]) if n >= 3 else 0
    cut = {"train": order[:n_train], "dev": order[n_train:n_train + n_dev],
           "test": order[n_train + n_dev:]}
    return tuple(sorted(cut[split]))


def vpick(rng: random.Random, items: Sequence[T]) -> T:
    """Pick the template's main variant, honouring the split ownership of a ``SplitRandom``."""
    if not isinstance(rng, SplitRandom):
        return pick(rng, items)
    allowed: Sequence[int] = range(len(items))
    if rng.split is not None:
        allowed = owned_variants(rng.corpus_seed, rng.template_key, len(items), rng.split)
        if not allowed:
            raise NoVariant(rng.template_key)
    i = allowed[rng.randrange(len(allowed))]
    rng.variant = i
    return items[i]


PARAMS = (
    "id", "q", "search", "user", "username", "name", "page", "item", "product", "cat", "sort",
    "order", "ref", "lang", "view", "uid", "pid", "token", "filter", "category", "query", "email",
    "account", "post", "article", "comment", "tag", "type", "mode", "key",
)
FILE_PARAMS = ("file", "path", "page", "template", "doc", "include", "lang", "img", "download",
               "filename", "theme", "style", "report", "folder", "attachment")
URL_PARAMS = ("url", "uri", "target", "dest", "redirect", "callback", "webhook", "feed", "image",
              "imageUrl", "link", "src", "proxy", "next", "endpoint", "avatar_url", "fetch")
TABLES = ("users", "accounts", "admin", "customers", "orders", "members", "employees",
          "credentials", "products", "payments", "sessions", "staff", "login", "user_data")
COLUMNS = ("username", "password", "passwd", "email", "pass", "user", "login", "pwd", "hash",
           "credit_card", "ssn", "api_key", "token", "name", "secret")
FIRST_NAMES = ("Alice", "Bob", "Carlos", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ines",
               "Jonas", "Kavya", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa",
               "Sven", "Tariq", "Uma", "Victor", "Wen", "Yara", "Zoe", "Mateo", "Chloe")
LAST_NAMES = ("Smith", "Garcia", "Nguyen", "Müller", "Kowalski", "Okafor", "Tanaka", "Rossi",
              "Johansson", "Patel", "Silva", "Brown", "Dubois", "Kim", "Novak", "Haddad")
WORDS = ("red", "shoes", "laptop", "cheap", "flight", "hotel", "recipe", "pasta", "garden",
         "python", "guide", "review", "best", "2024", "winter", "jacket", "camera", "lens",
         "coffee", "grinder", "bike", "helmet", "paris", "tokyo", "weather", "news", "music",
         "jazz", "vegan", "desk", "chair", "kids", "books", "sale", "used", "repair", "manual")
PUBLIC_HOSTS = ("example.com", "shop.example.org", "cdn.example.net", "www.wikipedia.org",
                "images.example.com", "news.example.co.uk", "api.github.com", "docs.python.org",
                "blog.example.io", "static.example-cdn.com")
ATTACKER_HOSTS = ("evil.example", "attacker.test", "x.oast.example", "burpcollab.example.net",
                  "c2.badhost.test", "exfil.example.org", "0xdeadbeef.test", "pwn.example")
ATTACKER_IPS = ("203.0.113.7", "198.51.100.23", "192.0.2.66", "203.0.113.140", "198.51.100.9")
SECRETS_FILES = ("/etc/passwd", "/etc/shadow", "/etc/hosts", "/proc/self/environ",
                 "/root/.ssh/id_rsa", "/var/www/html/config.php", "/etc/issue",
                 "/home/app/.aws/credentials", "/proc/self/cmdline", "/etc/group")
WIN_FILES = ("C:\\Windows\\win.ini", "C:\\boot.ini", "C:\\inetpub\\wwwroot\\web.config",
             "C:\\Windows\\System32\\drivers\\etc\\hosts")


def rand_word(rng: random.Random) -> str:
    return pick(rng, WORDS)


def rand_int(rng: random.Random, lo: int = 1, hi: int = 9999) -> int:
    return rng.randint(lo, hi)


def rand_hex(rng: random.Random, n: int) -> str:
    return "".join(pick(rng, "0123456789abcdef") for _ in range(n))


def rand_name(rng: random.Random) -> str:
    return f"{pick(rng, FIRST_NAMES)} {pick(rng, LAST_NAMES)}"
