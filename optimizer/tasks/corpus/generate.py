"""Assemble the corpus: splits, deduplication, JSONL files and the manifest.

Usage::

    python -m optimizer.tasks.corpus.generate --out data/payloads --seed 7

Contracts:
- Deterministic: every random draw comes from a ``random.Random`` seeded with a string derived
  from ``seed`` (``f"{seed}:{split}:{label}"``; string seeds are hashed with SHA-512 by Python,
  independent of ``PYTHONHASHSEED``). Same seed + ``GENERATOR_VERSION`` = byte-identical files.
- Template *variants* (``vpick`` in ``common``) are owned whole by one of train / dev / test, so
  near-duplicates (same variant, other parameters/carrier/encoding) never straddle those splits;
  ``meta.group`` = ``template#variant`` names the unit. Within a split one core value (template
  output before carrier and encoding) is used at most ``MAX_CORE_REPEATS`` times.
- Payloads are unique across all four splits (exact string). ``id`` = ``pb-`` + the first 12 hex
  digits of SHA-256 of the payload (stable as long as the payload is).
- ``regression`` is a separate draw from all templates plus hand-written critical cases, deduped
  against the other splits; its rows carry ``first_seen``, ``critical`` and ``incident``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimizer.tasks.corpus import GENERATOR_VERSION
from optimizer.tasks.corpus.attacks_injection import INJECTION_TEMPLATES
from optimizer.tasks.corpus.attacks_web import WEB_TEMPLATES
from optimizer.tasks.corpus.benign import BENIGN_TEMPLATES, BENIGN_WEIGHTS
from optimizer.tasks.corpus.common import NoVariant, Sample, SplitRandom, Template, pick
from optimizer.tasks.corpus.contexts import wrap
from optimizer.tasks.corpus.edge_cases import EDGE_CASES
from optimizer.tasks.corpus.encodings import apply_encoding, detect_encoding
from optimizer.tasks.corpus.regression import (
    CRITICAL_CASES,
    CRITICAL_TEMPLATES,
    first_seen,
    incident_note,
)
from optimizer.tasks.payloads import LABELS

log = logging.getLogger(__name__)

SPLIT_ORDER = ("train", "dev", "test", "regression")
# rows per split: (benign, per attack label); 10 attack labels.
QUOTAS: dict[str, tuple[int, int]] = {
    "train": (380, 62), "dev": (190, 31), "test": (230, 37), "regression": (110, 19),
}
EDGE_SHARE = (("train", 0.40), ("dev", 0.25), ("test", 0.35))  # hand-written cases
ENCODE_RATE = {"attack": 0.25, "benign": 0.10}
MAX_CORE_REPEATS = 3
GROUP_CAP = {"benign": 0.04, "attack": 0.15}  # initial max share of one group in a quota
DEFAULT_SEED = 7

# label -> [(template name, function, wrappable)]
TEMPLATES: dict[str, list[tuple[str, Template, bool]]] = {
    "benign": list(BENIGN_TEMPLATES),
    **{lab: [(n, f, True) for n, f in ts] for lab, ts in {**INJECTION_TEMPLATES,
                                                          **WEB_TEMPLATES}.items()},
}


def assign_edge_cases(seed: int) -> dict[str, list[Sample]]:
    """Spread the hand-written edge cases over train/dev/test, stratified by label."""
    out: dict[str, list[Sample]] = {s: [] for s, _ in EDGE_SHARE}
    for label in LABELS:
        cases = [c for c in EDGE_CASES if c[1] == label]
        random.Random(f"{seed}:edge:{label}").shuffle(cases)
        start = 0
        for i, (split, share) in enumerate(EDGE_SHARE):
            end = len(cases) if i == len(EDGE_SHARE) - 1 else start + round(len(cases) * share)
            out[split] += [Sample(p, lab, "handwritten", encoding=detect_encoding(p, lab),
                                  source="handwritten", note=note)
                           for p, lab, note in cases[start:end]]
            start = end
    return out


def _draw_one(rng: SplitRandom, label: str, templates: Sequence[tuple[str, Template, bool]],
              ) -> tuple[Sample, str] | None:
    if label == "benign":
        weights = [BENIGN_WEIGHTS.get(t[0], 1.0) for t in templates]
        name, fn, wrappable = rng.choices(templates, weights)[0]
    else:
        name, fn, wrappable = pick(rng, templates)
    rng.template_key, rng.variant = f"{label}:{name}", None
    try:
        core = fn(rng)
    except NoVariant:
        return None
    if rng.variant is None:
        raise RuntimeError(f"template {rng.template_key} must call vpick() once")
    group = f"{name}#{rng.variant}"
    value, encoding = core, "none"
    rate = ENCODE_RATE["benign" if label == "benign" else "attack"]
    if rng.random() < rate:
        for _ in range(3):
            value, encoding = apply_encoding(rng, label, core)
            if encoding != "none":
                break
    keep_bare = not wrappable or (encoding == "unicode" and value[:1] in "{[")
    text, context = (value, "bare") if keep_bare else wrap(rng, label, value)
    if encoding == "unicode" and context == "json":  # keep escapes verbatim inside the JSON
        text = json.dumps({"value": "__V__"}).replace("__V__", value.replace('"', "\\u0022"))
    sample = Sample(text, label, name, encoding=encoding, context=context, extra={"group": group})
    return sample, f"{group}\x00{core}"


def draw(rng: SplitRandom, label: str, templates: Sequence[tuple[str, Template, bool]],
         n: int, seen: set[str]) -> list[Sample]:
    """Draw ``n`` unique samples of ``label`` from ``templates`` (fewer if they run dry).

    One group (template variant) holds at most ``GROUP_CAP`` of the quota at first; the cap is
    relaxed step by step only when the owned groups cannot fill the quota otherwise.
    """
    out: list[Sample] = []
    cores: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    cap = max(3, math.ceil(n * GROUP_CAP["benign" if label == "benign" else "attack"]))
    for _round in range(6):
        attempts = 0
        while len(out) < n and attempts < n * 40:
            attempts += 1
            drawn = _draw_one(rng, label, templates)
            if drawn is None:
                continue
            sample, core_key = drawn
            group = sample.extra["group"]
            if (sample.payload in seen or cores[core_key] >= MAX_CORE_REPEATS
                    or groups[group] >= cap or not sample.payload):
                continue
            cores[core_key] += 1
            groups[group] += 1
            seen.add(sample.payload)
            out.append(sample)
        if len(out) >= n:
            break
        cap = math.ceil(cap * 1.5)
    if len(out) < n:
        log.warning("label %s: drew %d of %d samples (templates exhausted)", label, len(out), n)
    return out


def _row(sample: Sample, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = sample.meta()
    if extra:
        meta.update(extra)
    pid = "pb-" + hashlib.sha256(sample.payload.encode("utf-8")).hexdigest()[:12]
    return {"id": pid, "payload": sample.payload, "label": sample.label, "meta": meta}


def build_regression(seed: int, seen: set[str], handwritten: set[str]) -> list[dict[str, Any]]:
    """Draw the regression split; ``seen`` blocks generated payloads, ``handwritten`` holds the
    hand-written payloads already placed in other splits."""
    benign_n, attack_n = QUOTAS["regression"]
    samples: list[Sample] = []
    for payload, label, note in CRITICAL_CASES:
        if payload not in handwritten:
            handwritten.add(payload)
            samples.append(Sample(payload, label, "handwritten", encoding=detect_encoding(payload,
                                                                                          label),
                                  source="handwritten", note=note, extra={"critical": True}))
    for label in LABELS:
        quota = benign_n if label == "benign" else attack_n
        have = sum(1 for s in samples if s.label == label)
        rng = SplitRandom(f"{seed}:regression:{label}", corpus_seed=seed, split=None)
        for s in draw(rng, label, TEMPLATES[label], max(0, quota - have), seen):
            s.extra["critical"] = (label, s.template) in CRITICAL_TEMPLATES
            samples.append(s)
    rng = random.Random(f"{seed}:regression:meta")
    rows = []
    for s in samples:
        day = first_seen(rng)
        note = incident_note(rng, s.label, day)
        if s.source == "handwritten":
            note = f"{note.split(':', 1)[0]}: {s.note}"
        rows.append(_row(s, {"first_seen": day, "incident": note}))
    return rows


def build_corpus(seed: int = DEFAULT_SEED) -> dict[str, list[dict[str, Any]]]:
    """Return ``{split: rows}`` for all four splits (rows in their final file order)."""
    edges = assign_edge_cases(seed)
    # generated rows never collide with a hand-written one
    seen = {e.payload for es in edges.values() for e in es} | {c[0] for c in CRITICAL_CASES}
    handwritten: set[str] = set()
    splits: dict[str, list[dict[str, Any]]] = {}
    for split in ("train", "dev", "test"):
        benign_n, attack_n = QUOTAS[split]
        samples: list[Sample] = []
        for e in edges[split]:
            if e.payload not in handwritten:
                handwritten.add(e.payload)
                samples.append(e)
        for label in LABELS:
            quota = benign_n if label == "benign" else attack_n
            have = sum(1 for s in samples if s.label == label)
            rng = SplitRandom(f"{seed}:{split}:{label}", corpus_seed=seed, split=split)
            samples += draw(rng, label, TEMPLATES[label], max(0, quota - have), seen)
        rows = [_row(s) for s in samples]
        random.Random(f"{seed}:{split}:order").shuffle(rows)
        splits[split] = rows
    rows = build_regression(seed, seen, handwritten)
    random.Random(f"{seed}:regression:order").shuffle(rows)
    splits["regression"] = rows
    ids = [r["id"] for rows_ in splits.values() for r in rows_]
    if len(ids) != len(set(ids)):
        raise ValueError("payload id collision; change the id length in _row")
    return splits


def _dump(rows: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def manifest_for(seed: int, files: dict[str, bytes],
                 splits: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"generator": "optimizer.tasks.corpus.generate",
                           "generator_version": GENERATOR_VERSION, "seed": seed,
                           "labels": list(LABELS), "splits": {}}
    for split, rows in splits.items():
        labels = Counter(r["label"] for r in rows)
        out["splits"][split] = {
            "file": f"{split}.jsonl", "rows": len(rows),
            "sha256": hashlib.sha256(files[split]).hexdigest(),
            "labels": {lab: labels.get(lab, 0) for lab in LABELS},
            "encodings": dict(sorted(Counter(r["meta"]["encoding"] for r in rows).items())),
            "sources": dict(sorted(Counter(r["meta"]["source"] for r in rows).items())),
            "contexts": dict(sorted(Counter(r["meta"]["context"] for r in rows).items())),
            "critical": sum(1 for r in rows if r["meta"].get("critical")),
        }
    out["total_rows"] = sum(len(r) for r in splits.values())
    return out


def write_corpus(out_dir: str | Path, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Generate the corpus into ``out_dir`` and return the manifest (also written there)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    splits = build_corpus(seed)
    files = {split: _dump(rows) for split, rows in splits.items()}
    for split, data in files.items():
        (out / f"{split}.jsonl").write_bytes(data)
    manifest = manifest_for(seed, files, splits)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                       encoding="utf-8", newline="\n")
    log.info("wrote %d rows to %s", manifest["total_rows"], out)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimizer.tasks.corpus.generate",
                                     description="Generate the promptbreed payload corpus.")
    parser.add_argument("--out", default="data/payloads", help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed (default 7)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    manifest = write_corpus(args.out, args.seed)
    for split, info in manifest["splits"].items():
        log.info("%-10s %5d rows  %s", split, info["rows"],
                 " ".join(f"{k}={v}" for k, v in info["labels"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
