"""CI/CD through the CLI in subprocesses on a real SQLite file: run -> check -> review ->
promote -> export -> rollback, concurrent promotion, bad input, and --from-reviews."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from cicd_helpers import REPO, breed, copy_store, counts, make_run, ok_json, rows


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One small evolution run shared by the tests (each test works on a copy of its store)."""
    d = tmp_path_factory.mktemp("cicd-base")
    summary = make_run(d)
    assert summary["status"] == "completed"
    return d, summary


def test_end_to_end_run_check_review_promote_export_rollback(base, tmp_path: Path) -> None:
    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    cand = summary["best_candidate"]
    assert rows(db, "select kind, status from runs") == [("run", "completed")]

    # check: regression + test vs the seed prompt (no production yet)
    junit, md = tmp_path / "check.xml", tmp_path / "check.md"
    chk = ok_json(breed("check", cand, "--junit", str(junit), "--markdown", str(md), "--json",
                        cwd=tmp_path, db=db))
    assert chk["passed"] and chk["candidate_id"] == cand
    assert chk["baseline"]["source"].startswith("seed prompt")
    assert rows(db, "select count(*) from runs where kind = 'check' and status = 'completed'"
                ) == [(1,)]
    assert rows(db, "select count(*) from evaluations where candidate_id = ? and split = "
                "'regression'", cand) == [(300,)]
    suites = ET.parse(junit).getroot()
    assert int(suites.get("failures")) == chk["regressions"]
    assert len(suites.findall(".//failure")) == chk["regressions"]
    assert "gate PASSED" in md.read_text()

    # review: stored with the check report's hash
    rev = ok_json(breed("review", cand, "--approve", "--comment",
                        "good on encodings; still misses log4shell lookups",
                        "--reviewer", "alice", "--json", cwd=tmp_path, db=db))
    assert rev["evidence"]["report_hash"] == chk["report_hash"]
    stored = rows(db, "select reviewer, decision, evidence_json from reviews")
    assert stored[0][:2] == ("alice", "approve")
    assert json.loads(stored[0][2])["report_hash"] == chk["report_hash"]

    # promote: release v1, production -> v1, approval linked
    pro = ok_json(breed("promote", cand, "--name", "pc", "--by", "bob", "--json", cwd=tmp_path,
                        db=db))
    assert (pro["version"], pro["previous_version"], pro["forced"]) == (1, None, False)
    assert rows(db, "select name, version, candidate_id, created_by, review_id from releases"
                ) == [("pc", 1, cand, "bob", rev["review_id"])]
    assert rows(db, "select alias, release_id, previous_release_id, moved_by from alias_moves"
                ) == [("production", 1, None, "bob")]

    # export: every format; nothing written
    before = counts(db)
    exp = json.loads(breed("export", "pc@production", "--format", "json", cwd=tmp_path,
                           db=db).stdout)
    text, chash = rows(db, "select text, content_hash from candidates where id = ?", cand)[0]
    assert exp["prompt"].startswith(text) and exp["content_hash"] == chash
    assert exp["version"] == 1 and exp["aliases"] == ["production"]
    assert exp["approvals"][0]["reviewer"] == "alice"
    lo, hi = exp["scores"]["test"]["intervals"]["accuracy"]
    assert lo <= exp["scores"]["test"]["accuracy"] <= hi
    assert exp["lineage"]["ancestors"] >= 1 and exp["model"]["model"] == "local/reference"
    as_yaml = yaml.safe_load(breed("export", "pc@1", "--format", "yaml", cwd=tmp_path,
                                   db=db).stdout)
    assert as_yaml == exp
    assert breed("export", "pc", "--format", "txt", cwd=tmp_path, db=db).stdout == exp["prompt"]
    pf = yaml.safe_load(breed("export", "pc", "--format", "promptfoo", cwd=tmp_path,
                              db=db).stdout)
    assert len(pf["tests"]) == 300
    assert sum(t["metadata"]["critical"] for t in pf["tests"]) == 43
    assert all(t["assert"][0]["type"] == "equals" for t in pf["tests"])
    mod = tmp_path / "program.py"
    r = breed("export", "pc@production", "--format", "dspy", "--out", str(mod), cwd=tmp_path,
              db=db)
    assert r.returncode == 0, r.stderr
    run = subprocess.run([sys.executable, str(mod), "<script>alert(1)</script>", "hello"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr
    labels = [json.loads(line)["label"] for line in run.stdout.splitlines()]
    assert labels == ["xss", "benign"]
    assert counts(db) == before

    # a forced v2 (gate fails: the expert prompt breaks many cases vs production)
    expert = str(REPO / "configs" / "prompts" / "expert.txt")
    e = breed("check", expert, "--config", str(d / "run.yaml"), "--json", cwd=tmp_path, db=db)
    assert e.returncode == 1, e.stderr
    ecand = json.loads(e.stdout)["candidate_id"]
    assert json.loads(e.stdout)["baseline"]["release"] == {"name": "pc", "version": 1}
    refused = breed("promote", ecand, "--name", "pc", cwd=tmp_path, db=db)
    assert refused.returncode == 1 and "refused" in refused.stderr
    forced = ok_json(breed("promote", ecand, "--name", "pc", "--force", "--reason", "hotfix",
                           "--json", cwd=tmp_path, db=db))
    assert forced["version"] == 2 and forced["forced"]
    ev = json.loads(rows(db, "select evidence_json from releases where version = 2")[0][0])
    assert ev["forced"] is True and ev["reason"] == "hotfix" and ev["gate_passed"] is False

    # rollback: production back to v1, history appended
    rb = ok_json(breed("rollback", "pc", "--reason", "bad FP rate", "--json", cwd=tmp_path,
                       db=db))
    assert (rb["version"], rb["previous_version"]) == (1, 2)
    view = ok_json(breed("releases", "pc", "--json", cwd=tmp_path, db=db))
    assert view["aliases"] == {"production": 1}
    assert [(m["previous_version"], m["version"]) for m in view["history"]] == [
        (None, 1), (1, 2), (2, 1)]
    assert rows(db, "select count(*) from alias_moves") == [(3,)]
    again = breed("rollback", "pc", cwd=tmp_path, db=db)
    assert again.returncode == 2 and "no earlier version" in again.stderr


def _approved_candidate(d: Path, tmp: Path, db: Path, prompt: str) -> str:
    c = ok_json(breed("check", prompt, "--config", str(d / "run.yaml"), "--json", cwd=tmp,
                      db=db))
    assert c["passed"], c["gate"]
    ok_json(breed("review", c["candidate_id"], "--approve", "--reviewer", "carol", "--json",
                  cwd=tmp, db=db))
    return c["candidate_id"]


def test_two_processes_promoting_at_once_exactly_one_wins(base, tmp_path: Path) -> None:
    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    best = summary["best_candidate"]
    text = ok_json(breed("show", best, "--json", cwd=tmp_path, db=db))["text"]
    a = _approved_candidate(d, tmp_path, db, best)
    b = _approved_candidate(d, tmp_path, db, text + "\nAnswer with one label.")
    assert a != b
    procs = [subprocess.Popen([sys.executable, "-m", "optimizer", "promote", c, "--name", "pc",
                               "--json", "--db", str(db)], cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in (a, b)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = next(r for r in results if r[0] == 1)
    assert "refused" in loser[2] and len(loser[2].strip().splitlines()) == 1
    winner = json.loads(next(r for r in results if r[0] == 0)[1])
    assert rows(db, "select version, candidate_id from releases") == [
        (1, winner["candidate_id"])]
    assert rows(db, "select alias, release_id, previous_release_id from alias_moves") == [
        ("production", 1, None)]


def test_promotion_that_loses_the_race_inside_its_window_is_refused(
        base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic interleaving: another promotion commits after this one computed its gate
    and matched its approval, before its write transaction; the compare-and-swap refuses."""
    from optimizer.cicd import check as check_mod
    from optimizer.cicd.release import PromotionRefused, promote
    from optimizer.cicd.targets import config_for
    from optimizer.store import open_store

    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    best = summary["best_candidate"]
    text = ok_json(breed("show", best, "--json", cwd=tmp_path, db=db))["text"]
    a = _approved_candidate(d, tmp_path, db, best)
    b = _approved_candidate(d, tmp_path, db, text + "\nAnswer with one label.")
    mine, other = open_store(str(db)), open_store(str(db))
    real = check_mod.run_check
    raced: list[int] = []

    def gate_then_competitor_commits(*args: Any, **kw: Any) -> Any:
        result = real(*args, **kw)
        if not raced:
            raced.append(1)
            cfg_b, seed_b = config_for(other, None, b)
            rel, _, _ = promote(other, cfg_b, b, name="pc", alias="production", by="other",
                                seed_prompt=seed_b)
            raced.append(rel.version)
        return result

    monkeypatch.setattr(check_mod, "run_check", gate_then_competitor_commits)
    try:
        cfg, seed = config_for(mine, None, a)
        with pytest.raises(PromotionRefused, match="moved while this promotion"):
            promote(mine, cfg, a, name="pc", alias="production", by="me", seed_prompt=seed)
    finally:
        mine.close()
        other.close()
    assert raced == [1, 1]
    assert rows(db, "select version, candidate_id, created_by from releases") == [(1, b, "other")]
    assert rows(db, "select alias, release_id, previous_release_id, moved_by from alias_moves"
                ) == [("production", 1, None, "other")]


def test_bad_input_clear_errors_and_store_unchanged(base, tmp_path: Path) -> None:
    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    best = summary["best_candidate"]
    ok_json(breed("promote", best, "--name", "pc", "--force", "--reason", "bootstrap",
                  "--json", cwd=tmp_path, db=db))
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text('{"payload": "id=1"}\n{"payload": "broken\n{"payload": "x"}\n')
    before = counts(db)
    cases = {
        "unknown candidate": (["promote", "c00000000000", "--name", "pc"], "no candidate"),
        "not a candidate": (["promote", "hello", "--name", "pc"], "not a candidate id"),
        "unknown alias": (["export", "pc@staging", "--format", "json"], "no alias 'staging'"),
        "unknown line": (["export", "nope", "--format", "json"], "no release line"),
        "unknown version": (["export", "pc@9", "--format", "txt"], "no version"),
        "broken traffic": (["shadow", best, "--inputs", str(traffic)], "line 2"),
        "force without reason": (["promote", best, "--name", "pc", "--force"], "--reason"),
        "review without check": (["review", "c00000000000", "--approve", "--reviewer", "x"],
                                 "no candidate"),
        "prompt without config": (["check", "Classify it."], "--config"),
    }
    procs = {name: subprocess.Popen([sys.executable, "-m", "optimizer", *args, "--db", str(db)],
                                    cwd=tmp_path, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
             for name, (args, _) in cases.items()}  # read-only or refused: run them at once
    for name, (_, needle) in cases.items():
        code = procs[name].wait(timeout=120)
        err = procs[name].communicate()[1].strip()
        assert code == 2, (name, code, err)
        assert "Traceback" not in err and len(err.splitlines()) == 1, (name, err)
        assert needle in err, (name, err)
    assert counts(db) == before


def test_shadow_agreement_and_drift_stored(base, tmp_path: Path) -> None:
    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    inputs = [json.loads(x)["payload"] for x in
              (REPO / "data" / "payloads" / "dev.jsonl").read_text().splitlines()[:150]]
    traffic = tmp_path / "traffic.csv"
    import csv

    with traffic.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["payload"])
        w.writerows([[x] for x in inputs + inputs[:10]])
    sh = ok_json(breed("shadow", summary["best_candidate"], "--inputs", str(traffic), "--json",
                       cwd=tmp_path, db=db))
    assert sh["n"] == 160 and sh["distinct"] == 150
    assert 0.0 < sh["agreement"] < 1.0 and 0.0 < sh["js_divergence"] < 1.0
    assert sh["top_disagreements"] and sh["disagreements"] == round(160 * (1 - sh["agreement"]))
    assert rows(db, "select count(*) from runs where kind = 'shadow'") == [(1,)]
    assert rows(db, "select count(*), count(label) from evaluations where split = 'shadow'"
                ) == [(300, 0)]
    chk = ok_json(breed("check", summary["best_candidate"], "--json", cwd=tmp_path, db=db))
    drift = next(c for c in chk["gate"]["checks"] if c["name"] == "drift")
    assert "shadow traffic (160 inputs)" in drift["detail"]
    assert drift["value"] == sh["js_divergence"]


def test_run_from_reviews_seeds_mutation_prompts(base, tmp_path: Path) -> None:
    d, summary = base
    db = copy_store(d / "breed.db", tmp_path)
    r = breed("run", str(d / "run.yaml"), "--from-reviews", cwd=tmp_path, db=db)
    assert r.returncode == 2 and "no review comments" in r.stderr
    ok_json(breed("review", summary["best_candidate"], "--comment",
                  "misses ${jndi: lookups in headers", "--reviewer", "dana", "--json",
                  cwd=tmp_path, db=db))
    run = ok_json(breed("run", str(d / "run.yaml"), "--from-reviews", "--json", cwd=tmp_path,
                        db=db))
    cfg = json.loads(rows(db, "select config_json from runs where id = ?", run["run_id"])[0][0])
    extra = cfg["extra_mutation_prompts"]
    assert len(extra) == 1 and "misses ${jndi: lookups in headers" in extra[0]
