"""End-to-end engine tests through the real CLI entry point, real SQLite, local/reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_helpers import count, lineage_fingerprint, write_config

from optimizer.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return int(exc.value.code or 0), json.loads(out[-1]) if out else {}


def test_same_seed_gives_identical_lineage_and_scores(tmp_path: Path, capsys) -> None:
    results = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        cfg = write_config(d)
        code, summary = _run(["run", str(cfg), "--json"], capsys)
        assert code == 0 and summary["status"] == "completed"
        results.append((lineage_fingerprint(d / "breed.db"), summary))
    (fa, sa), (fb, sb) = results
    assert fa == fb and len(fa) > 4
    for key in ("best_test_score", "seed_test_score", "p_value", "best_dev_score", "model_calls"):
        assert sa[key] == sb[key]
    assert sa["generations"] == 3 and sa["best_dev_score"] >= sa["seed_dev_score"]


def test_summary_json_fields_and_stored_lineage(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path)
    code, s = _run(["run", str(cfg), "--json"], capsys)
    assert code == 0
    for key in ("run_id", "status", "seed_test_score", "best_test_score", "p_value",
                "model_calls"):
        assert key in s
    db = tmp_path / "breed.db"
    # every non-initial candidate has a parent edge; every proposal is stored with its reason
    assert count(db, "select count(*) from candidates c where generation > 0 and not exists"
                     " (select 1 from candidate_parents e where e.child_id = c.id)") == 0
    assert count(db, "select count(*) from proposals") == s["proposals"]
    assert count(db, "select count(*) from proposals where reason = ''") == 0
    assert count(db, "select count(*) from evaluations where split = 'test'") > 0
    # no evaluation stored twice
    assert count(db, "select count(*) from (select candidate_id, example_id, split, repeat,"
                     " count(*) n from evaluations group by 1, 2, 3, 4 having n > 1)") == 0
    code, lineage = _run(["lineage", s["best_candidate"], "--db", str(db), "--json"], capsys)
    assert lineage[0]["candidate_id"] == s["best_candidate"]
    assert lineage[-1]["generation"] == 0


def test_max_calls_budget_stops_the_run(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path, budget={"max_calls": 300}, llm={"concurrency": 8},
                       evolution={"generations": 50})
    _code, s = _run(["run", str(cfg), "--json"], capsys)
    assert s["status"] == "budget_exhausted"
    made = count(tmp_path / "breed.db", "select count(*) from llm_calls where cached = 0")
    assert made <= 300 + 8
