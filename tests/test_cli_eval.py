"""``breed eval`` and ``breed data import`` through real subprocesses on a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CRS = REPO.parent / "shared" / "corpora" / "crs_payloads.csv"


def breed(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, env={**os.environ})


def make_config(tmp: Path, **extra: object) -> Path:
    cfg = {
        "seed": 3,
        "prompt": str(REPO / "configs" / "prompts" / "seed.txt"),
        "data": {"path": str(REPO / "data" / "payloads")},
        "store": f"sqlite:///{tmp / 'breed.db'}",
        "eval": {"bootstrap": 200},
        **extra,
    }
    p = tmp / "c.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def db_counts(db: Path) -> tuple[int, ...]:
    with sqlite3.connect(db) as c:
        assert c.execute("pragma integrity_check").fetchone()[0] == "ok"
        return tuple(c.execute(f"select count(*) from {t}").fetchone()[0]
                     for t in ("runs", "candidates", "evaluations", "response_cache"))


def test_eval_twice_second_makes_no_model_calls(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    first = breed("eval", str(cfg), "--json", "--max-examples", "150", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = breed("eval", str(cfg), "--json", "--max-examples", "150", cwd=tmp_path)
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["model_calls"] == 150 and a["cache_hits"] == 0
    assert b["model_calls"] == 0 and b["cache_hits"] == 150
    for key in ("accuracy", "macro_f1", "attack_recall", "benign_fpr", "intervals", "per_class"):
        assert a[key] == b[key]
    lo, hi = a["intervals"]["accuracy"]
    assert lo <= a["accuracy"] <= hi


def test_eval_human_report_and_literal_prompt(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    r = breed("eval", str(cfg), "--prompt", "Classify the payload.", "--split", "dev",
              "--max-examples", "60", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for word in ("accuracy", "attack recall", "benign FP rate", "per class", "model calls"):
        assert word in r.stdout


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "nolabel.csv").write_text("payload,kind\nabc,benign\n")
    (tmp / "weird.csv").write_text("payload,label\nabc,malware\n")
    (tmp / "empty.jsonl").write_text("")
    (tmp / "latin.csv").write_bytes("payload,label\ncaf\xe9,benign\n".encode("latin-1"))
    bad_cfg = tmp / "bad.yaml"
    bad_cfg.write_text("llm:\n  concurency: 3\n")
    cfg = str(tmp / "c.yaml")
    return {
        "unknown key": (["eval", str(bad_cfg)], "unknown config key 'llm.concurency'"),
        "no label column": (["eval", cfg, "--dataset", str(tmp / "nolabel.csv")],
                            "--label-col"),
        "labels outside task": (["eval", cfg, "--dataset", str(tmp / "weird.csv")],
                                "--label-map"),
        "empty file": (["eval", cfg, "--dataset", str(tmp / "empty.jsonl")], "no rows"),
        "non-utf8": (["eval", cfg, "--dataset", str(tmp / "latin.csv")], "not UTF-8"),
        "missing prompt file": (["eval", cfg, "--dataset", str(tmp / "nope.csv")], "not found"),
        "both split and dataset": (["eval", cfg, "--split", "dev", "--dataset",
                                    str(tmp / "weird.csv")], "either --split or --dataset"),
    }


def test_bad_input_one_line_error_nonzero_exit_and_db_intact(tmp_path: Path) -> None:
    make_config(tmp_path)
    ok = breed("eval", str(tmp_path / "c.yaml"), "--json", "--max-examples", "20", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    before = db_counts(tmp_path / "breed.db")
    for name, (args, needle) in _bad_inputs(tmp_path).items():
        r = breed(*args, cwd=tmp_path)
        assert r.returncode != 0, name
        err = r.stderr.strip()
        assert "Traceback" not in err, name
        assert len(err.splitlines()) == 1, (name, err)
        assert needle in err, (name, err)
    assert db_counts(tmp_path / "breed.db") == before


def test_megabyte_payload_is_truncated_not_fatal(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps({"payload": "A" * 1_000_000 + "' or 1=1--", "label": "sqli"})
                   + "\n" + json.dumps({"payload": "hello", "label": "benign"}) + "\n")
    r = breed("eval", str(cfg), "--dataset", str(big), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 2 and out["errors"] == 0
    with sqlite3.connect(tmp_path / "breed.db") as c:
        n = c.execute("select count(*) from evaluations where split = 'dataset'").fetchone()[0]
    assert n == 2


@pytest.mark.skipif(not CRS.is_file(), reason="needs ../shared/corpora (present in CI)")
def test_data_import_crs_and_eval_it(tmp_path: Path) -> None:
    out = tmp_path / "crs.jsonl"
    r = breed("data", "import", str(CRS), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "skipped" in r.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(1 for row in rows if row["label"] == "xss") == 196
    cfg = make_config(tmp_path)
    ev = breed("eval", str(cfg), "--dataset", str(out), "--max-examples", "50", "--json",
               cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    bad = breed("data", "import", str(tmp_path / "missing.csv"), "--out", str(out), cwd=tmp_path)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_litellm_transport_gives_the_same_report(tmp_path: Path) -> None:
    """The same evaluation through real litellm calls to local/reference and in-process."""
    reports = []
    for transport in ("direct", "litellm"):
        d = tmp_path / transport
        d.mkdir()
        cfg = make_config(d, llm={"transport": transport})
        r = breed("eval", str(cfg), "--json", "--max-examples", "40", cwd=d)
        assert r.returncode == 0, r.stderr
        reports.append(json.loads(r.stdout))
    direct, via_litellm = reports
    assert via_litellm["model_calls"] == 40
    for key in ("accuracy", "per_class", "input_tokens", "output_tokens", "cost_usd"):
        assert direct[key] == via_litellm[key]
    with sqlite3.connect(tmp_path / "litellm" / "breed.db") as c:
        assert c.execute("select count(*) from llm_calls").fetchone()[0] == 40


def test_outdated_store_is_refused_until_breed_db_upgrade(tmp_path: Path) -> None:
    from optimizer.store._schema import REVISIONS, make_engine, migrate, normalize_url

    cfg = make_config(tmp_path)
    db = tmp_path / "breed.db"
    assert breed("eval", str(cfg), "--max-examples", "10", cwd=tmp_path).returncode == 0
    engine = make_engine(normalize_url(str(db)))
    migrate(engine, REVISIONS[0], downgrade=True)
    engine.dispose()
    before = db.read_bytes()
    refused = breed("eval", str(cfg), "--max-examples", "10", cwd=tmp_path)
    assert refused.returncode != 0
    assert "breed db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    assert db.read_bytes() == before
    up = breed("db", "upgrade", "--db", str(db), cwd=tmp_path)
    assert up.returncode == 0 and "upgraded" in up.stdout
    again = breed("eval", str(cfg), "--max-examples", "10", "--json", cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["cache_hits"] == 10
