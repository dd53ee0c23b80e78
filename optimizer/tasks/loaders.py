"""Loaders for labeled examples: the project's split folders and any CSV/JSONL file.

Contracts:
- Every loader returns a list of ``Example`` whose labels are all in the task's label set, or
  raises ``DataError`` with one line that names the file, the problem and the fix.
- Inputs longer than ``max_input_chars`` are truncated (documented behaviour, not an error);
  the example's ``meta["truncated_from"]`` records the original length.
- Ids are stable: the id column when given, else ``<file stem>-<sha256(input)[:10]>`` (with a
  ``~N`` suffix for repeated inputs), so reordering a file does not rename examples.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from optimizer.errors import DataError
from optimizer.tasks.base import SPLITS, Example, Task

log = logging.getLogger(__name__)


def parse_label_map(spec: str | None) -> dict[str, str]:
    """Parse ``old=new,old2=new2`` into a dict (``--label-map`` syntax)."""
    if not spec:
        return {}
    out: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise DataError(f"bad --label-map entry '{part}'; write it as old=new,old2=new2")
        old, new = part.split("=", 1)
        out[old.strip()] = new.strip()
    return out


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"dataset {path} not found; check the path")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"dataset {path} is not UTF-8 (bad byte at offset {err.start}); "
            "re-encode it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None


def _jsonl_rows(path: Path, text: str) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise DataError(
                f"{path} line {n} is not valid JSON; fix or delete that line"
            ) from None
        if not isinstance(row, dict):
            raise DataError(f"{path} line {n} is not a JSON object; each line must be {{...}}")
        yield row


def _csv_rows(path: Path, text: str) -> Iterator[dict[str, Any]]:
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        yield from csv.DictReader(io.StringIO(text, newline=""))
    except csv.Error as err:
        raise DataError(f"{path} is not valid CSV ({err}); fix the quoting") from None


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a .jsonl/.json-lines or .csv/.tsv file into row dicts."""
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return list(_jsonl_rows(path, text))
    if suffix in {".csv", ".tsv"}:
        return list(_csv_rows(path, text))
    raise DataError(f"dataset {path} has unknown type '{suffix}'; use .csv or .jsonl")


def _stable_id(stem: str, text: str, seen: Counter[str]) -> str:
    base = f"{stem}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}~{seen[base]}"


def rows_to_examples(
    rows: list[dict[str, Any]],
    task: Task,
    *,
    source: str,
    input_col: str = "payload",
    label_col: str = "label",
    id_col: str | None = None,
    label_map: Mapping[str, str] | None = None,
    max_input_chars: int = 8192,
) -> list[Example]:
    """Turn row dicts into validated ``Example``s (see module contract)."""
    if not rows:
        raise DataError(f"{source} has no rows; add examples or pick another split/file")
    columns = list(rows[0].keys())
    for col, flag in ((input_col, "--input-col"), (label_col, "--label-col"), (id_col, "--id-col")):
        if col is not None and col not in columns:
            raise DataError(
                f"{source} has no column '{col}' (columns: {', '.join(map(str, columns))}); "
                f"pass {flag} NAME"
            )
    mapping = dict(label_map or {})
    stem = Path(source).stem
    seen: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    out: list[Example] = []
    for row in rows:
        raw_label = row.get(label_col)
        label = mapping.get(str(raw_label), str(raw_label)) if raw_label is not None else ""
        if label not in task.labels:
            bad[str(raw_label)] += 1
            continue
        text = row.get(input_col)
        text = "" if text is None else text if isinstance(text, str) else json.dumps(text)
        meta = dict(row.get("meta") or {}) if isinstance(row.get("meta"), dict) else {}
        if len(text) > max_input_chars:
            meta["truncated_from"] = len(text)
            text = text[:max_input_chars]
        ex_id = str(row[id_col]) if id_col else str(row.get("id") or _stable_id(stem, text, seen))
        out.append(Example(id=ex_id, input=text, label=label, meta=meta))
    if bad:
        listed = ", ".join(f"{k!r} ({v} rows)" for k, v in bad.most_common(5))
        raise DataError(
            f"{source} has labels outside the task ({listed}); map them with "
            "--label-map old=new,... to one of: " + ", ".join(task.labels)
        )
    truncated = sum(1 for e in out if "truncated_from" in e.meta)
    if truncated:
        log.warning("%s: %d inputs truncated to %d characters", source, truncated, max_input_chars)
    return out


def load_split(folder: Path, split: str, task: Task, max_input_chars: int = 8192) -> list[Example]:
    """Load ``<folder>/<split>.jsonl`` in the project format (id, payload, label, meta)."""
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; use one of: {', '.join(SPLITS)}")
    path = folder / f"{split}.jsonl"
    if not path.is_file():
        raise DataError(f"split file {path} not found; check data.path in the config")
    return rows_to_examples(
        read_rows(path), task, source=str(path), max_input_chars=max_input_chars
    )


def load_file(
    path: Path,
    task: Task,
    *,
    input_col: str = "payload",
    label_col: str = "label",
    id_col: str | None = None,
    label_map: Mapping[str, str] | None = None,
    max_input_chars: int = 8192,
) -> list[Example]:
    """Load any labeled CSV/JSONL file with column and label mapping."""
    return rows_to_examples(
        read_rows(path),
        task,
        source=str(path),
        input_col=input_col,
        label_col=label_col,
        id_col=id_col,
        label_map=label_map,
        max_input_chars=max_input_chars,
    )
