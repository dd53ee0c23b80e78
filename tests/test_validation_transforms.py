"""Evasion transforms: every transform keeps the attack (restore(variant) == canonical(original))
on the whole project corpus, rewrites the payloads it is suited to, and is deterministic."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from optimizer.validation.transforms import SUITED, TRANSFORMS, preserves, suited


def _corpus(repo: Path) -> list[dict]:
    rows = []
    for split in ("train", "dev", "test"):
        with (repo / "data" / "payloads" / f"{split}.jsonl").open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh]
    return rows


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_preserves_every_corpus_payload(name: str, repo: Path) -> None:
    t = TRANSFORMS[name]
    rows = _corpus(repo)
    changed = 0
    for r in rows:
        v = t.apply(r["payload"], random.Random(r["id"]))
        assert preserves(name, r["payload"], v), (name, r["payload"][:120], v[:120])
        changed += v != r["payload"]
    assert changed >= 30  # every transform has work to do on this corpus


def test_known_variants_restore_to_the_attack() -> None:
    rng = random.Random(1)
    cases = {
        "url": "' OR 1=1--",
        "double_url": "<script>alert(1)</script>",
        "html_entities": "<img src=x onerror=alert(1)>",
        "unicode_escapes": "{\"$ne\": null}",
        "case_mixing": "union select password from users",
        "sql_comments": "1 union select null, version()",
        "whitespace": "1 or 1=1",
        "concatenation": "' union select 'admin' --",
        "shell_quoting": "; cat /etc/passwd",
        "path_encoding": "../../../etc/passwd",
    }
    for name, payload in cases.items():
        v = TRANSFORMS[name].apply(payload, rng)
        assert v != payload, name
        assert preserves(name, payload, v), (name, v)
    # a broken variant is caught: dropping the comment-replaced keyword is not the same attack
    assert not preserves("sql_comments", "1 union select 2", "1/**/select/**/2")
    assert not preserves("url", "../etc/passwd", "%2e%2e%2fetc%2fshadow")


def test_transforms_are_deterministic_and_suited_lists_are_known() -> None:
    for name, t in TRANSFORMS.items():
        a = t.apply("a b ' union select '1234' ../x ; cat y", random.Random(5))
        b = t.apply("a b ' union select '1234' ../x ; cat y", random.Random(5))
        assert a == b, name
    for label, names in SUITED.items():
        assert set(names) <= set(TRANSFORMS), label
    assert suited("sqli", ("url", "html_entities")) == ("url",)
    assert suited("no_such_label") == ("url", "double_url")
