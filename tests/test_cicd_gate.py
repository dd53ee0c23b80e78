"""The gate: a candidate that fixes many cases but breaks one critical regression case is
refused and the message names the case; JUnit failures equal regressions; gate helpers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from cicd_helpers import REPO, breed, broken_expert, counts, ok_json, rows, write_gate_config

CRITICAL_CASE = "pb-8b6a914d8869"  # '../../../../../../proc/self/environ', critical


def test_breaking_one_critical_case_is_refused_by_name(tmp_path: Path) -> None:
    from engine_helpers import write_config

    base = tmp_path / "base"
    base.mkdir()
    write_config(base)
    # everything but the critical check is loose, so the refusal is about that case alone
    cfg = write_gate_config(base, tmp_path, max_regressions=100, max_drift=0.6)
    db = tmp_path / "breed.db"
    seed = str(REPO / "configs" / "prompts" / "seed.txt")
    s = breed("check", seed, "--config", str(cfg), "--json", cwd=tmp_path, db=db)
    assert s.returncode == 1  # no gain over itself
    seed_cand = json.loads(s.stdout)["candidate_id"]
    ok_json(breed("promote", seed_cand, "--name", "pc", "--force", "--reason",
                  "bootstrap: today's production prompt", "--config", str(cfg), "--json",
                  cwd=tmp_path, db=db))

    # the full expert prompt keeps the critical case; without its "../" cue it loses it
    full = ok_json(breed("check", str(REPO / "configs" / "prompts" / "expert.txt"),
                         "--config", str(cfg), "--json", cwd=tmp_path, db=db))
    assert full["passed"]
    assert CRITICAL_CASE not in {c["id"] for c in full["splits"]["regression"]["newly_failing"]}
    broken = tmp_path / "broken.txt"
    broken.write_text(broken_expert())
    junit = tmp_path / "broken.xml"
    r = breed("check", str(broken), "--config", str(cfg), "--junit", str(junit), "--json",
              cwd=tmp_path, db=db)
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    fixed = sum(len(rep["splits"][s]["newly_fixed"]) for s in ("regression", "test"))
    assert fixed > 200  # fixes many cases ...
    failed = [c for c in rep["gate"]["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["critical_regressions"]  # ... breaks one critical
    assert CRITICAL_CASE in failed[0]["detail"]
    first = rep["splits"]["regression"]["newly_failing"][0]
    assert first["id"] == CRITICAL_CASE and first["critical"]  # critical listed first
    root = ET.parse(junit).getroot()
    assert int(root.get("failures")) == rep["regressions"] == len(root.findall(".//failure"))
    assert sum(int(s.get("failures")) for s in root.findall("testsuite")) == rep["regressions"]
    crit = [f for f in root.findall(".//failure") if f.get("type") == "CRITICAL regression"]
    assert len(crit) == 1

    ok_json(breed("review", rep["candidate_id"], "--approve", "--reviewer", "erin", "--json",
                  cwd=tmp_path, db=db))
    before = counts(db)
    p = breed("promote", rep["candidate_id"], "--name", "pc", "--config", str(cfg),
              cwd=tmp_path, db=db)
    assert p.returncode == 1
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1 and CRITICAL_CASE in err and "critical" in err
    assert counts(db)["releases"] == before["releases"] == 1
    assert counts(db)["alias_moves"] == before["alias_moves"]
    assert rows(db, "select version from releases") == [(1,)]


def test_rollback_target_replays_history_as_a_stack() -> None:
    from optimizer.cicd.release import rollback_target
    from optimizer.store import AliasMoveRecord

    def hist(*versions: int | None) -> list[AliasMoveRecord]:
        return [AliasMoveRecord(id=i, name="x", alias="production", version=v,
                                previous_version=None, moved_by="t", reason="", created_at=0.0)
                for i, v in enumerate(versions)]

    assert rollback_target(hist(1)) is None
    assert rollback_target(hist(1, 2, 3)) == 2
    assert rollback_target(hist(1, 2, 3, 2)) == 1  # second rollback goes further back
    assert rollback_target(hist(1, 2, 3, 2, 4)) == 2  # a new release after a rollback
    assert rollback_target(hist(1, 2, 1)) is None


def test_js_divergence_and_copy_detection() -> None:
    from optimizer.cicd.gate import copied_fragment
    from optimizer.cicd.stats import js_divergence
    from optimizer.tasks.base import Example

    assert js_divergence(Counter(a=5, b=5), Counter(a=1, b=1)) == 0.0
    assert js_divergence(Counter(a=3), Counter(b=3)) == 1.0
    assert 0 < js_divergence(Counter(a=3, b=1), Counter(a=1, b=3)) < 1
    payload = "q=1' AND (SELECT 4242 FROM (SELECT(SLEEP(7)))kYzD) AND 'QmRt'='QmRt"
    train = [Example("t1", payload, "sqli"), Example("t2", "hello", "benign")]
    assert copied_fragment("Classify the payload. sqli: \"union select\"", train, 40) is None
    prompt = 'Classify.\nExample: ' + json.dumps(payload) + ' -> sqli'
    frag, ex_id = copied_fragment(prompt, train, 40)
    assert ex_id == "t1" and len(frag) >= 40 and frag.casefold() in payload.casefold()


def test_review_prompts_reach_the_engine_mutation_prompt_list(tmp_path: Path) -> None:
    from engine_helpers import write_config

    from optimizer.app import Splits, build_gateway, get_task, load_config
    from optimizer.cicd.review import review_mutation_prompts
    from optimizer.engine.run import Runner
    from optimizer.operators import load_seed_list
    from optimizer.store import open_store

    config = load_config(write_config(tmp_path))
    with open_store(str(tmp_path / "breed.db")) as store:
        run = store.create_run("eval", "e", {}, 0, "payload-classification")
        cand = store.add_candidate(run, "Classify.", generation=0, operator="manual")
        store.add_review(cand.id, reviewer="r", decision="reject",
                         comment="too many FPs  on O'Brien")
        store.add_review(cand.id, reviewer="s", decision="comment", comment="")
        extra = tuple(review_mutation_prompts(store))
        assert len(extra) == 1 and "too many FPs on O'Brien" in extra[0]
        runner = Runner(config, get_task(config), Splits([], [], []), store,
                        build_gateway(config, None), extra_mutation_prompts=extra)
        env = runner._env("r-test")
    assert env.mutation_prompts == load_seed_list("mutation_prompts") + extra
