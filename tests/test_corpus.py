"""The committed payload corpus: reproducible, complete, deduplicated, split without leakage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from optimizer.tasks.corpus.common import SplitRandom
from optimizer.tasks.corpus.edge_cases import EDGE_CASES
from optimizer.tasks.corpus.generate import TEMPLATES, build_corpus, write_corpus
from optimizer.tasks.payloads import LABELS

SPLITS = ("train", "dev", "test", "regression")
MIN_PER_ATTACK_LABEL = {"train": 50, "dev": 25, "test": 30, "regression": 15}


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "payloads"


@pytest.fixture(scope="module")
def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {s: [json.loads(line)
                for line in (folder / f"{s}.jsonl").read_text("utf-8").splitlines()]
            for s in SPLITS}


def test_regenerating_with_the_same_seed_is_byte_identical(tmp_path: Path, folder: Path,
                                                           manifest: dict[str, Any]) -> None:
    fresh = write_corpus(tmp_path, seed=manifest["seed"])
    for split in SPLITS:
        digest = hashlib.sha256((tmp_path / f"{split}.jsonl").read_bytes()).hexdigest()
        assert digest == manifest["splits"][split]["sha256"], (
            f"{split}.jsonl differs from the committed data; regenerate with "
            "python -m optimizer.tasks.corpus.generate --out data/payloads --seed 7")
    assert (tmp_path / "manifest.json").read_bytes() == (folder / "manifest.json").read_bytes()
    assert fresh == manifest


def test_committed_files_match_the_manifest(folder: Path, manifest: dict[str, Any],
                                            rows: dict[str, list[dict[str, Any]]]) -> None:
    for split in SPLITS:
        info = manifest["splits"][split]
        data = (folder / f"{split}.jsonl").read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"]
        assert len(rows[split]) == info["rows"]
        assert dict(Counter(r["label"] for r in rows[split])) == {
            k: v for k, v in info["labels"].items() if v}


def test_another_seed_gives_other_data() -> None:
    a, b = build_corpus(7), build_corpus(8)
    assert [r["payload"] for r in a["dev"]] != [r["payload"] for r in b["dev"]]


def test_labels_valid_and_counts_healthy(rows: dict[str, list[dict[str, Any]]]) -> None:
    total = sum(len(r) for r in rows.values())
    assert total >= 2000
    for split, rs in rows.items():
        counts = Counter(r["label"] for r in rs)
        assert set(counts) == set(LABELS), f"{split} misses labels"
        for label in LABELS:
            if label != "benign":
                assert counts[label] >= MIN_PER_ATTACK_LABEL[split], (split, label)
        assert 0.33 <= counts["benign"] / len(rs) <= 0.42, split
        for r in rs:
            assert set(r) == {"id", "payload", "label", "meta"}
            assert r["payload"] and isinstance(r["payload"], str)
            assert r["meta"]["source"] in {"generator", "handwritten"}


def test_no_duplicate_payloads_or_ids_across_splits(rows: dict[str, list[dict[str, Any]]]) -> None:
    payloads = [r["payload"] for rs in rows.values() for r in rs]
    ids = [r["id"] for rs in rows.values() for r in rs]
    assert len(payloads) == len(set(payloads))
    assert len(ids) == len(set(ids))
    for r in rows["dev"]:
        assert r["id"] == "pb-" + hashlib.sha256(r["payload"].encode()).hexdigest()[:12]


def test_template_variants_do_not_straddle_train_dev_test(
        rows: dict[str, list[dict[str, Any]]]) -> None:
    groups = {s: {(r["label"], r["meta"]["group"]) for r in rows[s]
                  if r["meta"]["source"] == "generator"} for s in ("train", "dev", "test")}
    assert not groups["train"] & groups["dev"]
    assert not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]
    # but every technique (template) is represented in train for every attack label
    templates = {(lab, g.split("#")[0]) for lab, g in groups["train"]}
    assert len({lab for lab, _ in templates}) == len(LABELS)


def test_share_of_encoded_attacks(rows: dict[str, list[dict[str, Any]]]) -> None:
    for split, rs in rows.items():
        attacks = [r for r in rs if r["label"] != "benign"]
        share = sum(r["meta"]["encoding"] != "none" for r in attacks) / len(attacks)
        assert 0.18 <= share <= 0.35, (split, share)
        benign = [r for r in rs if r["label"] == "benign"]
        assert any(r["meta"]["encoding"] != "none" for r in benign)


def test_regression_rows_are_historical_artifacts(rows: dict[str, list[dict[str, Any]]]) -> None:
    reg = rows["regression"]
    critical = [r for r in reg if r["meta"]["critical"]]
    assert 40 <= len(critical) <= 60
    assert all(r["label"] != "benign" for r in critical)
    assert {r["label"] for r in critical} >= {"sqli", "xxe", "ssrf", "ssti", "cmdi"}
    assert any("169.254.169.254" in r["payload"] for r in critical)
    assert any("${jndi:" in r["payload"] or "j}ndi" in r["payload"] for r in critical)
    lo, hi = dt.date(2025, 5, 1), dt.date(2026, 12, 1)
    for r in reg:
        assert lo <= dt.date.fromisoformat(r["meta"]["first_seen"]) <= hi
        assert r["meta"]["incident"].startswith("INC-")
    for split in ("train", "dev", "test"):
        assert not any("critical" in r["meta"] for r in rows[split])


def test_hand_written_edge_cases_are_many_and_all_used(rows: dict[str, list[dict[str, Any]]]
                                                       ) -> None:
    assert len(EDGE_CASES) >= 100
    labels = Counter(lab for _, lab, _ in EDGE_CASES)
    assert labels["benign"] >= 40 and sum(labels.values()) - labels["benign"] >= 40
    assert set(labels) == set(LABELS)
    placed = {r["payload"] for s in ("train", "dev", "test") for r in rows[s]
              if r["meta"]["source"] == "handwritten"}
    assert placed == {p for p, _, _ in EDGE_CASES}


def test_every_template_declares_its_variant() -> None:
    for label, templates in TEMPLATES.items():
        for name, fn, _ in templates:
            rng = SplitRandom(f"probe:{label}:{name}", corpus_seed=7, split=None)
            rng.template_key = f"{label}:{name}"
            out = fn(rng)
            assert isinstance(out, str) and out
            assert rng.variant is not None, f"{label}:{name} must call vpick()"


def test_readme_counts_match_the_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    readme = (folder.parent / "README.md").read_text(encoding="utf-8")
    for split in SPLITS:
        info = manifest["splits"][split]
        line = f"| {split} | {info['rows']} | " + " | ".join(
            str(info["labels"][lab]) for lab in LABELS) + f" | {info['critical']} |"
        assert line in readme, f"data/README.md counts for {split} are stale"
