"""The OWASP CRS importer on the real regression CSV and on small bad files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from optimizer.errors import ConfigError, DataError
from optimizer.tasks.crs import DEFAULT_LABEL_MAP, REQUIRED_COLUMNS, import_crs, write_jsonl
from optimizer.tasks.loaders import load_file
from optimizer.tasks.payloads import LABELS, PAYLOAD_TASK

CRS_CSV = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "crs_payloads.csv"
HEADER = ["id", "payload", "payload_decoded", "label", "rule_id", "expect_match", "source_path",
          "family", "sublabel", "location", "test_id", "desc", "rule_msg", "positive_elsewhere",
          "dup_rule_ids"]


def _write(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})
    return path


def _row(i: int, payload: str, label: str, *, decoded: str | None = None, sub: str = "",
         family: str | None = None, elsewhere: str = "false") -> dict[str, str]:
    return {"id": f"crs-1-{i}", "payload": payload, "payload_decoded": decoded or payload,
            "label": label, "rule_id": "1", "family": family or label, "sublabel": sub,
            "location": "query", "positive_elsewhere": elsewhere}


@pytest.fixture(scope="module")
def real() -> tuple[list, dict[str, int]]:
    return import_crs(CRS_CSV)


def _count_rows(pred) -> int:
    with CRS_CSV.open(encoding="utf-8", newline="") as fh:
        return sum(1 for r in csv.DictReader(fh) if pred(r))


def test_real_csv_counts_per_label(real: tuple[list, dict[str, int]]) -> None:
    examples, skipped = real
    counts = Counter(e.label for e in examples)
    # positives straight from the CSV README's table
    assert counts["sqli"] == 842
    assert counts["xss"] == 196
    assert counts["cmdi"] == 642  # rce
    assert counts["path_traversal"] == 64  # lfi
    generic_ssrf = _count_rows(lambda r: r["label"] == "generic" and r["sublabel"] == "ssrf")
    assert generic_ssrf == 70  # 85 ssrf rows over positive + negative, 15 of them negative
    assert counts["ssrf"] == generic_ssrf + 34  # + rfi
    assert counts["ssti"] == 11 and counts["ldapi"] == 20
    assert counts["crlf"] == 22  # response_splitting 7 + header_injection 12 + http_splitting 3
    # benign: 33 (999999) + 829 benign_fp_check - 78 positive_elsewhere, minus repeated strings
    assert skipped["positive_elsewhere"] == 78
    assert counts["benign"] == 33 + 829 - 78 - skipped.get("duplicate", 0) - skipped.get(
        "empty_payload", 0)
    assert 700 <= counts["benign"] <= 784
    assert "nosqli" not in counts and "xxe" not in counts
    assert set(counts) <= set(LABELS)
    # skipped families, per reason
    assert skipped["unmapped:java"] == 783
    assert skipped["unmapped:php_injection"] == 285
    assert skipped["unmapped:session_fixation"] == 40
    assert skipped["unmapped:scanner"] == 5
    assert skipped["unmapped:generic/node_injection"] == 42
    assert len(examples) + sum(skipped.values()) == 4249


def test_real_csv_examples_carry_ids_and_meta(real: tuple[list, dict[str, int]]) -> None:
    examples, _ = real
    assert len({e.id for e in examples}) == len(examples)
    assert all(e.id.startswith("crs-") for e in examples)
    crlf = next(e for e in examples if e.label == "crlf")
    assert crlf.meta["family"] == "protocol" and crlf.meta["sublabel"]
    assert crlf.meta["rule_id"].startswith("921") and crlf.meta["location"]
    assert "%0d%0a" in crlf.input.lower()  # as sent, not decoded


def test_decoded_payloads_and_label_map_override() -> None:
    decoded, _ = import_crs(CRS_CSV, use_decoded=True)
    raw, _ = import_crs(CRS_CSV)
    assert sum("%0d%0a" in e.input.lower() for e in decoded) < sum(
        "%0d%0a" in e.input.lower() for e in raw)
    for skip in (None, "skip"):
        no_rfi, skipped = import_crs(CRS_CSV, label_map={"rfi": skip})
        assert skipped["unmapped:rfi"] == 34
        assert Counter(e.label for e in no_rfi)["ssrf"] == 70
    more, _ = import_crs(CRS_CSV, label_map={"generic/node_injection": "cmdi"})
    assert Counter(e.label for e in more)["cmdi"] == 642 + 42


def test_include_unmapped_keeps_other_families_marked(real: tuple[list, dict[str, int]]) -> None:
    everything, skipped = import_crs(CRS_CSV, include_unmapped=True)
    java = [e for e in everything if e.label == "java"]
    assert java and all(e.meta["unmapped"] for e in java)
    assert not any(k.startswith("unmapped:") for k in skipped)
    assert len(everything) > len(real[0])


def test_written_jsonl_loads_with_the_project_loader(tmp_path: Path,
                                                     real: tuple[list, dict[str, int]]) -> None:
    examples, _ = real
    out = tmp_path / "crs" / "test.jsonl"
    assert write_jsonl(examples, out) == len(examples)
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"id", "payload", "label", "meta"}
    loaded = load_file(out, PAYLOAD_TASK)
    assert [e.id for e in loaded] == [e.id for e in examples]
    assert [e.label for e in loaded] == [e.label for e in examples]


def test_small_file_mapping_dedupe_and_conflicts(tmp_path: Path) -> None:
    f = _write(tmp_path / "s.csv", [
        _row(1, "' or 1=1--", "sqli"),
        _row(2, "' or 1=1--", "sqli"),  # duplicate
        _row(3, "http://169.254.169.254/", "generic", sub="ssrf"),
        _row(4, "%0d%0aSet-Cookie: a=b", "protocol", sub="header_injection",
             decoded="\r\nSet-Cookie: a=b"),
        _row(5, "hello world", "benign_fp_check", family="sqli"),
        _row(6, "; id", "benign_fp_check", family="sqli", elsewhere="true"),
        _row(7, "same", "xss"),
        _row(8, "same", "rce"),  # conflicting labels: both dropped
        _row(9, "java.lang.Runtime", "java"),
        _row(10, "   ", "xss"),
    ])
    examples, skipped = import_crs(f)
    assert [(e.id, e.label) for e in examples] == [
        ("crs-1-1", "sqli"), ("crs-1-3", "ssrf"), ("crs-1-4", "crlf"), ("crs-1-5", "benign")]
    assert skipped == {"conflicting_labels": 2, "duplicate": 1, "empty_payload": 1,
                       "positive_elsewhere": 1, "unmapped:java": 1}
    decoded, _ = import_crs(f, use_decoded=True)
    assert decoded[2].input == "\r\nSet-Cookie: a=b"


def test_default_map_targets_task_labels_only() -> None:
    assert {v for v in DEFAULT_LABEL_MAP.values() if v} <= set(LABELS)
    assert DEFAULT_LABEL_MAP["rfi"] == "ssrf" and DEFAULT_LABEL_MAP["rce"] == "cmdi"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (",".join(HEADER).encode() + b"\n", "no data rows"),
        (b"id,payload,label\ncrs-1,x,sqli\n", r"lacks required column\(s\) family, sublabel"),
        (",".join(HEADER).encode()
         + b"\ncrs-1,caf\xe9,caf\xe9,sqli,1,true,p,sqli,,query,1,,,false,1\n",
         "not UTF-8.*iconv"),
    ],
)
def test_bad_files_raise_data_error_naming_the_fix(tmp_path: Path, content: bytes,
                                                   match: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(DataError, match=match):
        import_crs(f)


def test_missing_file_and_decoded_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        import_crs(tmp_path / "nope.csv")
    f = _write(tmp_path / "nodecoded.csv", [_row(1, "x", "sqli")],
               header=[h for h in HEADER if h != "payload_decoded"])
    assert len(import_crs(f)[0]) == 1
    with pytest.raises(DataError, match="payload_decoded"):
        import_crs(f, use_decoded=True)
    assert "payload_decoded" not in REQUIRED_COLUMNS


def test_bad_label_map_is_a_config_error(tmp_path: Path) -> None:
    f = _write(tmp_path / "s.csv", [_row(1, "x", "sqli")])
    with pytest.raises(ConfigError, match=r"unknown label.*sqli=sql_injection"):
        import_crs(f, label_map={"sqli": "sql_injection"})
