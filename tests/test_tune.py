"""``breed tune``: optuna trials are real runs in the store; the best config is runnable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from engine_helpers import write_config

from optimizer.cli import main
from optimizer.config import load_config


def test_tune_trials_are_stored_runs_and_best_config_loads(tmp_path: Path, capsys) -> None:
    cfg = write_config(tmp_path)
    out = tmp_path / "best.yaml"
    with pytest.raises(SystemExit) as exc:
        main(["tune", str(cfg), "--trials", "3", "--max-calls", "1200", "--out", str(out),
              "--json"])
    assert exc.value.code == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["trials"]) == 3
    assert res["best_value"] == max(t["value"] for t in res["trials"])
    with sqlite3.connect(tmp_path / "breed.db") as c:
        names = [r[0] for r in c.execute("select name from runs order by id")]
        calls = [r[0] for r in c.execute("select count(*) from llm_calls where cached = 0"
                                         " group by run_id")]
    assert names == ["tune-0", "tune-1", "tune-2"]
    assert all(n <= 1200 + 16 for n in calls)
    best = load_config(out)
    assert best.evolution.population == res["best_params"]["population"]
    assert Path(best.data.path or "").is_absolute()
