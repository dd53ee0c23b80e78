from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.errors import DataError
from optimizer.tasks.loaders import load_file, load_split, parse_label_map
from optimizer.tasks.payloads import PAYLOAD_TASK


def _csv(path: Path, rows: list[tuple[str, str]], header: str = "text,kind") -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header.split(","))
        w.writerows(rows)
    return path


def test_csv_with_column_and_label_mapping(tmp_path: Path) -> None:
    f = _csv(tmp_path / "d.csv", [("' or 1=1--", "SQL"), ("hello", "ok"), ("hello", "ok")])
    exs = load_file(
        f, PAYLOAD_TASK, input_col="text", label_col="kind",
        label_map=parse_label_map("SQL=sqli,ok=benign"),
    )
    assert [e.label for e in exs] == ["sqli", "benign", "benign"]
    assert len({e.id for e in exs}) == 3  # repeated inputs get distinct, stable ids
    again = load_file(f, PAYLOAD_TASK, input_col="text", label_col="kind",
                      label_map={"SQL": "sqli", "ok": "benign"})
    assert [e.id for e in again] == [e.id for e in exs]


def test_missing_label_column_names_the_flag(tmp_path: Path) -> None:
    f = _csv(tmp_path / "d.csv", [("x", "benign")])
    with pytest.raises(DataError, match=r"no column 'label'.*--label-col"):
        load_file(f, PAYLOAD_TASK, input_col="text")


def test_labels_outside_task_name_the_fix(tmp_path: Path) -> None:
    f = _csv(tmp_path / "d.csv", [("x", "weird"), ("y", "benign")])
    with pytest.raises(DataError, match=r"'weird' \(1 rows\).*--label-map"):
        load_file(f, PAYLOAD_TASK, input_col="text", label_col="kind")


def test_empty_and_non_utf8_and_broken_jsonl(tmp_path: Path) -> None:
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="no rows"):
        load_file(empty, PAYLOAD_TASK)
    latin = tmp_path / "l.csv"
    latin.write_bytes("payload,label\ncaf\xe9,benign\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_file(latin, PAYLOAD_TASK)
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"payload": "a", "label": "benign"}\n{"payload": \n')
    with pytest.raises(DataError, match="line 2"):
        load_file(broken, PAYLOAD_TASK)


def test_huge_payload_is_truncated_and_recorded(tmp_path: Path) -> None:
    f = tmp_path / "big.jsonl"
    f.write_text(json.dumps({"payload": "A" * 1_000_000, "label": "benign"}) + "\n")
    (ex,) = load_file(f, PAYLOAD_TASK, max_input_chars=8192)
    assert len(ex.input) == 8192
    assert ex.meta["truncated_from"] == 1_000_000


def test_project_splits_load(repo: Path) -> None:
    folder = repo / "data" / "payloads"
    dev = load_split(folder, "dev", PAYLOAD_TASK)
    assert len(dev) > 100
    assert set(e.label for e in dev) == set(PAYLOAD_TASK.labels)
    with pytest.raises(DataError, match="unknown split"):
        load_split(folder, "nope", PAYLOAD_TASK)
