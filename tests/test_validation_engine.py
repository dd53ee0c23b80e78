"""Validation inside the evolution engine: weighted fitness, evasions and verifier rationales in
reflective meta-prompts, finalist reports, determinism, and ``breed report``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from engine_helpers import REPO, lineage_fingerprint, write_config

from optimizer.cli import main

VALIDATION = {
    "validation": {"adversary": {"enabled": True, "max_examples": 40},
                   "verifier": {"enabled": True},
                   "injection": {"enabled": True, "max_examples": 10}},
    "fitness": {"weights": {"accuracy": 1.0, "robustness": 0.5, "injection": 0.25}},
    "evolution": {"population": 4, "generations": 2, "minibatch": 12, "dev_limit": 120,
                  "top_k": 2},
}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out.strip().splitlines()
    return int(exc.value.code or 0), json.loads(out[-1]) if out else {}


def test_validated_run_is_deterministic_and_reports_every_stage(tmp_path: Path, capsys) -> None:
    summaries, prints = [], []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        code, s = _cli(["run", str(write_config(d, **VALIDATION)), "--json"], capsys)
        assert code == 0 and s["status"] == "completed"
        summaries.append(s)
        prints.append(lineage_fingerprint(d / "breed.db"))
    assert prints[0] == prints[1]
    s = summaries[0]
    assert s["model_calls"] == summaries[1]["model_calls"]
    champ = s["validation"]["champion"]
    assert 0.0 <= champ["robustness"]["robustness"] <= 1.0
    test_rows = [json.loads(x) for x in (REPO / "data" / "payloads" / "test.jsonl")
                 .read_text(encoding="utf-8").splitlines()]
    assert champ["verifier"]["n"] == len(test_rows)  # the whole test split is verified
    assert champ["injection"]["base"] == sum(r["label"] != "benign" for r in test_rows)
    assert champ["verifier"]["overturns"] == (champ["verifier"]["right"] + champ["verifier"]
                                              ["wrong"] + champ["verifier"]["neutral"])
    assert set(s["validation"]["family_pareto"]) <= {f["candidate"] for f in s["finalists"]}
    for row in s["finalists"]:
        assert {"robustness", "injection_flips", "verifier_overturns", "cost_weighted"} <= set(row)
    db = tmp_path / "a" / "breed.db"
    with sqlite3.connect(db) as c:
        metas = [json.loads(m) for (m,) in c.execute(
            "select meta_json from candidates where state = 'evaluated'")]
        prompts = "\n".join(
            "\n".join(json.loads(m).get("meta_prompts", []))
            for (m,) in c.execute("select meta_json from proposals where operator='reflective'"))
        minibatches = [json.loads(m) for (m,) in c.execute("select minibatch_json from proposals")]
    parts = [m["fitness_components"] for m in metas]
    assert all({"accuracy", "robustness", "injection"} <= set(p) for p in parts)
    # the fitness is the configured weighted mean of its components
    fit = (1.0 * parts[0]["accuracy"] + 0.5 * (parts[0]["robustness"] or 0.0)
           + 0.25 * (1 - parts[0]["injection"])) / 1.75
    with sqlite3.connect(db) as c:
        stored = sorted(f for (f,) in c.execute(
            "select fitness from candidates where state = 'evaluated'"))
    assert any(abs(f - fit) < 1e-5 for f in stored)
    assert "evasive rewrite (" in prompts and "verifier (" in prompts
    assert any("~adv~" in e for mb in minibatches for e in mb)  # adversarial minibatch screen


def test_plain_config_has_no_validation_and_report_command(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path, evolution={"generations": 1})
    code, s = _cli(["run", str(cfg), "--json"], capsys)
    assert code == 0 and s["validation"] == {}
    assert all("robustness" not in f for f in s["finalists"])
    db = str(tmp_path / "breed.db")
    code, rep = _cli(["report", s["best_candidate"], "--db", db, "--split", "dev",
                      "--max-examples", "80", "--json"], capsys)
    assert code == 0 and rep["candidate"] == s["best_candidate"] and rep["n"] == 80
    for key in ("family_recall", "benign_fpr", "robustness", "injection", "verifier"):
        assert key in rep
    v = rep["verifier"]
    assert v["overturns"] == v["right"] + v["wrong"] + v["neutral"]
    with pytest.raises(SystemExit) as exc:
        main(["report", s["best_candidate"], "--db", db, "--max-examples", "40",
              "--no-injection"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "robustness" in out and "verifier overturns" in out and "injection flips" not in out
    with pytest.raises(SystemExit) as exc:
        main(["report", "c-nope", "--db", db])
    assert exc.value.code != 0
    assert "no candidate" in capsys.readouterr().err


def test_interrupted_validated_run_resumes_to_the_same_lineage(tmp_path: Path, capsys) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    slow = {**VALIDATION, "evolution": {**VALIDATION["evolution"], "generations": 3},
            "llm": {"simulated_latency_s": 0.002, "concurrency": 8}}
    ref, crash = tmp_path / "ref", tmp_path / "crash"
    ref.mkdir()
    crash.mkdir()
    code, ref_summary = _cli(["run", str(write_config(ref, **slow)), "--json"], capsys)
    assert code == 0
    db = crash / "breed.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "optimizer", "run",
                             str(write_config(crash, **slow)), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:
            with sqlite3.connect(db) as c:
                gen = c.execute("select generation from runs").fetchone()
        except sqlite3.OperationalError:
            gen = None
        if gen and gen[0] >= 1:
            break
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    with sqlite3.connect(db) as c:
        run_id, status = c.execute("select id, status from runs").fetchone()
    assert status == "interrupted"  # stopped after a committed generation
    code, s = _cli(["resume", run_id, "--db", str(db), "--json"], capsys)
    assert code == 0 and s["status"] == "completed"
    assert s["validation"]["champion"] == ref_summary["validation"]["champion"]
    assert lineage_fingerprint(db) == lineage_fingerprint(ref / "breed.db")


def test_verifier_prompt_can_be_the_evolved_prompt(tmp_path: Path, capsys) -> None:
    import asyncio

    from optimizer.app import get_task, load_splits
    from optimizer.config import load_config
    from optimizer.engine.scoring import Scorer
    from optimizer.llm.gateway import Gateway
    from optimizer.llm.settings import GatewaySettings
    from optimizer.validation.pipeline import DEFAULT_VERIFIER_PROMPT, Verifier

    cfg_path = write_config(tmp_path, validation={"verifier": {"enabled": True,
                                                               "optimize": True}},
                            evolution={"generations": 2})
    code, s = _cli(["run", str(cfg_path), "--json"], capsys)
    assert code == 0 and s["status"] == "completed"
    with sqlite3.connect(tmp_path / "breed.db") as c:
        seed_text = c.execute("select text from candidates where operator = 'seed'").fetchone()[0]
        roles = dict(c.execute("select role, count(*) from llm_calls group by role").fetchall())
    assert seed_text == DEFAULT_VERIFIER_PROMPT  # the run evolves the verifier prompt
    assert roles.get("verifier", 0) > 0 and roles.get("task", 0) > 0
    # the seed's dev score is the accuracy of classifier (fixed seed prompt) -> verifier
    config = load_config(cfg_path)
    task = get_task(config)
    dev = load_splits(config, task).dev
    gw = Gateway(GatewaySettings())
    classifier = (REPO / "configs" / "prompts" / "seed.txt").read_text(encoding="utf-8")
    preds = asyncio.run(Scorer(gw, task, config.models.task).score(classifier, dev))
    verdicts = asyncio.run(Verifier(gw, task, config.models.verifier).verify(preds))
    expected = sum(v.final == v.expected for v in verdicts) / len(verdicts)
    assert s["seed_dev_score"] == pytest.approx(expected)
    assert expected > sum(p.correct for p in preds) / len(preds)  # the verifier helps here
    # breed report scores a verifier candidate behind the run's classifier
    code, rep = _cli(["report", s["best_candidate"], "--db", str(tmp_path / "breed.db"),
                      "--split", "dev", "--max-examples", "120", "--no-adversary",
                      "--no-injection", "--json"], capsys)
    assert code == 0 and "verifier" not in rep
    assert rep["accuracy"] == pytest.approx(s["best_dev_score"])
