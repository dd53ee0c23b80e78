"""Crash safety: a real ``breed run`` subprocess is SIGKILLed at several moments, then resumed.

The resumed run must end with the same champion, the same lineage (content hashes) and the
same number of stored evaluations as an uninterrupted run, store no evaluation twice, and
answer the calls made before the kill from the response cache.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_helpers import count, lineage_fingerprint, write_config

SLOW_RUN = {
    "evolution": {"population": 4, "generations": 4, "minibatch": 12, "dev_limit": 100,
                  "top_k": 2},
    "llm": {"simulated_latency_s": 0.004, "concurrency": 4},
}


def _breed(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "optimizer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _cached(db: Path) -> int:
    """Rows in the response cache (0 while the database does not exist yet)."""
    try:
        return count(db, "select count(*) from response_cache") if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def _run_id(db: Path) -> str | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db) as c:
            row = c.execute("select id from runs").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path) -> None:
    ref_dir, crash_dir = tmp_path / "ref", tmp_path / "crash"
    ref_dir.mkdir()
    crash_dir.mkdir()
    ref = _breed("run", str(write_config(ref_dir, **SLOW_RUN)), "--json")
    out, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err
    ref_summary = json.loads(out.strip().splitlines()[-1])

    cfg = write_config(crash_dir, **SLOW_RUN)
    db = crash_dir / "breed.db"
    rng = random.Random(20261204)
    kills = 0
    proc = _breed("run", str(cfg), "--json")
    for _ in range(3):
        # kill at a random moment after this process has made some progress of its own
        start = _cached(db)
        deadline = time.monotonic() + 120
        while _cached(db) < start + 40 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        run_id = _run_id(db)
        if run_id is None:  # killed before the run row existed: start again
            proc = _breed("run", str(cfg), "--json")
            continue
        proc = _breed("resume", run_id, "--db", str(db), "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert kills >= 1
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "completed"
    ref_db = ref_dir / "breed.db"
    assert lineage_fingerprint(db) == lineage_fingerprint(ref_db)
    assert summary["best_test_score"] == ref_summary["best_test_score"]
    with sqlite3.connect(db) as c:
        champion = c.execute("select content_hash from candidates where id = ?",
                             (summary["best_candidate"],)).fetchone()
    with sqlite3.connect(ref_db) as c:
        ref_champion = c.execute("select content_hash from candidates where id = ?",
                                 (ref_summary["best_candidate"],)).fetchone()
    assert champion == ref_champion
    n_eval = "select count(*) from evaluations"
    assert count(db, n_eval) == count(ref_db, n_eval)
    assert count(db, "select count(*) from (select candidate_id, example_id, split, repeat,"
                     " count(*) n from evaluations group by 1, 2, 3, 4 having n > 1)") == 0
    # the work redone after a kill was answered by the response cache
    assert count(db, "select count(*) from llm_calls where cached = 1") > 0
    assert count(db, "select count(*) from runs") == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_with_status_interrupted(tmp_path: Path, sig: signal.Signals) -> None:
    cfg = write_config(tmp_path, **{**SLOW_RUN, "evolution": {**SLOW_RUN["evolution"],
                                                              "generations": 30}})
    db = tmp_path / "breed.db"
    proc = _breed("run", str(cfg), "--json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until generation 0 is committed
        time.sleep(0.2)
        rid = _run_id(db)
        if rid and count(db, "select count(*) from population") > 0:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "interrupted"
    with sqlite3.connect(db) as c:
        status, gen = c.execute("select status, generation from runs").fetchone()
    assert status == "interrupted"
    # every committed generation has a full population; nothing half-written
    assert count(db, "select count(distinct generation) from population") == gen + 1
    assert "breed resume" in err


def test_status_from_another_process_while_running(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, **{**SLOW_RUN, "evolution": {**SLOW_RUN["evolution"],
                                                              "generations": 200}})
    db = tmp_path / "breed.db"
    proc = _breed("run", str(cfg), "--json")
    seen: list[dict] = []
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        rid = _run_id(db)
        if rid:
            st = subprocess.run([sys.executable, "-m", "optimizer", "status", rid, "--db",
                                 str(db), "--json"], capture_output=True, text=True, timeout=60)
            assert st.returncode == 0, st.stderr
            seen.append(json.loads(st.stdout))
            if len({s["generation"] for s in seen if s["status"] == "running"}) >= 2:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    running = [s for s in seen if s["status"] == "running"]
    gens = [s["generation"] for s in running]
    assert len(set(gens)) >= 2, "status did not see the run progress while it was going"
    assert gens == sorted(gens)
    final = json.loads(subprocess.run(
        [sys.executable, "-m", "optimizer", "status", running[0]["run_id"], "--db", str(db),
         "--json"], capture_output=True, text=True, timeout=60).stdout)
    assert final["status"] == "interrupted" and final["generation"] >= gens[-1]
    assert sum(op["proposals"] for op in final["operator_stats"]) > 0
