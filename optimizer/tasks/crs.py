"""Import the OWASP CRS regression-test payload CSV as payload-classification examples.

Input format: one row per go-ftw test stage with (at least) the columns in ``REQUIRED_COLUMNS``
(``payload_decoded`` too when ``use_decoded=True``): ``id``, ``payload`` (as sent, still
%-encoded where it was), ``payload_decoded``, ``label`` (CRS family for positive tests,
``benign_fp_check`` for negative tests, ``benign`` for rule 999999), ``family``, ``sublabel``
(for 934 generic / 921 protocol rules), ``location``, ``rule_id``, ``positive_elsewhere``.

Contracts:
- ``import_crs`` returns ``(examples, skipped)``: examples in file order with ``id`` = the CSV id,
  ``input`` = ``payload`` (default: the payload as sent, since decoding is part of the task) or
  ``payload_decoded``, ``label`` from the label map, and ``meta`` with ``family``, ``sublabel``,
  ``location``, ``rule_id``, ``crs_label``, ``source="crs"``; ``skipped`` counts the rows left
  out per reason (``positive_elsewhere``, ``unmapped:<key>``, ``empty_payload``, ``duplicate``,
  ``conflicting_labels``), so ``len(examples) + sum(skipped.values())`` = rows in the file.
- Label map keys are ``<label>/<sublabel>`` (checked first) or ``<label>`` (the CSV ``label``
  column); a value is a task label or ``None`` (skip; the strings ``""``, ``"-"``, ``"skip"``,
  ``"none"`` mean the same, for command-line maps). ``label_map`` entries are merged over
  ``DEFAULT_LABEL_MAP``. Negative tests that are an expected match of another test
  (``positive_elsewhere=true``) are never benign and are always skipped.
- Rows with the same input and label are kept once (``duplicate``); an input that would get two
  different labels is dropped entirely (``conflicting_labels``).
- ``include_unmapped=True`` keeps unmapped rows with ``label`` = the map key (e.g. ``java``,
  ``generic/node_injection``) and ``meta["unmapped"] = True``: for analysis only, those labels are
  not task labels.
- Bad input (missing file, empty file, no data rows, not UTF-8, not CSV, missing columns) raises
  ``DataError`` with one line naming the fix.

Default map decisions: ``rfi`` -> ``ssrf`` (a remote include makes the server fetch an attacker
URL); ``rce`` -> ``cmdi``; ``lfi`` -> ``path_traversal``; protocol ``response_splitting`` /
``header_injection`` / ``http_splitting`` -> ``crlf``; ``ldap_injection`` (a 921 protocol
sublabel in the CRS data, 934 in principle) -> ``ldapi``. Skipped by default: java (944),
php_injection (933), session_fixation (943), scanner (913) and the other generic/protocol
sublabels (node/perl/ruby injection, prototype pollution, request smuggling, ...), which have no
task label.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optimizer.errors import ConfigError, DataError
from optimizer.tasks.base import Example
from optimizer.tasks.payloads import LABELS

log = logging.getLogger(__name__)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id", "payload", "label", "family", "sublabel", "location", "rule_id", "positive_elsewhere",
)
BENIGN_LABELS = frozenset({"benign", "benign_fp_check"})
SKIP_WORDS = frozenset({"", "-", "skip", "none", "None"})

DEFAULT_LABEL_MAP: dict[str, str | None] = {
    "sqli": "sqli",
    "xss": "xss",
    "rce": "cmdi",
    "lfi": "path_traversal",
    "rfi": "ssrf",
    "generic/ssrf": "ssrf",
    "generic/ssti": "ssti",
    "generic/ldap_injection": "ldapi",
    "protocol/ldap_injection": "ldapi",
    "protocol/response_splitting": "crlf",
    "protocol/header_injection": "crlf",
    "protocol/http_splitting": "crlf",
    "benign": "benign",
    "benign_fp_check": "benign",
}


def _read_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"CRS CSV {path} not found; pass the path of crs_payloads.csv")
    data = path.read_bytes()
    if not data.strip():
        raise DataError(f"CRS CSV {path} is empty; pass the CRS regression payload CSV "
                        "(header id,payload,payload_decoded,label,...)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"CRS CSV {path} is not UTF-8 (bad byte at offset {err.start}); "
                        "re-encode it as UTF-8, e.g. iconv -f latin1 -t utf-8") from None
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(f"CRS CSV {path} lacks required column(s) {', '.join(missing)}; "
                            f"expected the CRS regression CSV with columns {', '.join(required)}")
        rows = list(reader)
    except csv.Error as err:
        raise DataError(f"CRS CSV {path} is not valid CSV ({err}); fix its quoting") from None
    if not rows:
        raise DataError(f"CRS CSV {path} has a header but no data rows; "
                        "regenerate it from the CRS regression tests")
    return rows


def _resolve_map(label_map: Mapping[str, str | None] | None) -> dict[str, str | None]:
    merged = dict(DEFAULT_LABEL_MAP)
    if label_map:  # "", "-" and "skip" also mean None (handy for --label-map rfi=skip)
        merged.update({k: None if v is None or v.strip() in SKIP_WORDS else v.strip()
                       for k, v in label_map.items()})
    bad = sorted(f"{k}={v}" for k, v in merged.items() if v is not None and v not in LABELS)
    if bad:
        raise ConfigError(f"CRS label map targets unknown label(s) {', '.join(bad)}; "
                          f"use one of {', '.join(LABELS)} or None to skip")
    return merged


def _key_for(row: dict[str, str], mapping: Mapping[str, str | None]) -> tuple[str, str | None]:
    """Return (map key, task label or None) for one CSV row: ``label/sublabel``, then ``label``."""
    crs_label, sub = row["label"].strip(), row["sublabel"].strip()
    specific = f"{crs_label}/{sub}" if sub else crs_label
    for key in (specific, crs_label):
        if key in mapping:
            return key, mapping[key]
    return specific, None


def import_crs(
    csv_path: str | Path,
    *,
    use_decoded: bool = False,
    label_map: Mapping[str, str | None] | None = None,
    include_unmapped: bool = False,
) -> tuple[list[Example], dict[str, int]]:
    """Read the CRS regression CSV; return (examples, skipped rows per reason)."""
    path = Path(csv_path)
    column = "payload_decoded" if use_decoded else "payload"
    required = (*REQUIRED_COLUMNS, "payload_decoded") if use_decoded else REQUIRED_COLUMNS
    rows = _read_rows(path, required)
    mapping = _resolve_map(label_map)
    skipped: Counter[str] = Counter()
    kept: list[Example] = []
    seen: dict[str, str] = {}
    ids: Counter[str] = Counter()
    for row in rows:
        crs_label = row["label"].strip()
        if row["positive_elsewhere"].strip().lower() == "true" and crs_label in BENIGN_LABELS:
            skipped["positive_elsewhere"] += 1
            continue
        key, label = _key_for(row, mapping)
        if label is None and not include_unmapped:
            skipped[f"unmapped:{key}"] += 1
            continue
        text = row[column]
        if not text.strip():
            skipped["empty_payload"] += 1
            continue
        final = label if label is not None else key
        if text in seen:
            skipped["duplicate" if seen[text] == final else "conflicting_labels"] += 1
            if seen[text] != final:
                seen[text] = "\x00conflict"
            continue
        seen[text] = final
        meta: dict[str, Any] = {
            "family": row["family"].strip(), "sublabel": row["sublabel"].strip(),
            "location": row["location"].strip(), "rule_id": row["rule_id"].strip(),
            "crs_label": crs_label, "source": "crs",
        }
        if label is None:
            meta["unmapped"] = True
        ex_id = row["id"].strip() or f"crs-row-{len(kept)}"
        ids[ex_id] += 1
        if ids[ex_id] > 1:
            ex_id = f"{ex_id}~{ids[ex_id]}"
        kept.append(Example(id=ex_id, input=text, label=final, meta=meta))
    conflicted = {t for t, lab in seen.items() if lab == "\x00conflict"}
    if conflicted:
        before = len(kept)
        kept = [e for e in kept if e.input not in conflicted]
        skipped["conflicting_labels"] += before - len(kept)
    log.info("imported %d CRS rows from %s (%d skipped)", len(kept), path, sum(skipped.values()))
    return kept, dict(sorted(skipped.items()))


def write_jsonl(examples: Iterable[Example], path: str | Path) -> int:
    """Write examples in the project JSONL format (``id``, ``payload``, ``label``, ``meta``).

    Creates parent folders; returns the number of rows written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        for ex in examples:
            row = {"id": ex.id, "payload": ex.input, "label": ex.label, "meta": dict(ex.meta)}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n
