"""Helpers for the CI/CD CLI tests: a shared small run, subprocess calls, store row counts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TABLES = ("runs", "candidates", "evaluations", "reviews", "releases", "alias_moves",
          "response_cache")


def breed(*args: str, cwd: Path, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--db", str(db)] if db is not None else []
    return subprocess.run([sys.executable, "-m", "optimizer", *args, *extra], cwd=cwd,
                          text=True, capture_output=True, timeout=300,
                          env={**os.environ, "BREED_USER": "tester"})


def ok_json(r: subprocess.CompletedProcess[str]) -> Any:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as c:
        assert c.execute("pragma integrity_check").fetchone()[0] == "ok"
        return {t: c.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as c:
        return c.execute(sql, params).fetchall()


def copy_store(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / "breed.db"
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def write_gate_config(base: Path, tmp: Path, **gate: Any) -> Path:
    """The shared run config with gate overrides, as a new file in ``tmp``."""
    import yaml

    cfg = yaml.safe_load((base / "run.yaml").read_text())
    cfg["gate"] = {**cfg.get("gate", {}), **gate}
    p = tmp / "gate.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def broken_expert() -> str:
    """The expert prompt without the ``"../"`` path-traversal cue (breaks one critical case)."""
    text = (REPO / "configs" / "prompts" / "expert.txt").read_text()
    broken = text.replace('indicators "../", ', "indicators ")
    assert broken != text
    return broken


def make_run(base: Path) -> dict[str, Any]:
    from engine_helpers import write_config

    cfg = write_config(base, evolution={"generations": 2})  # writes base / "run.yaml"
    return ok_json(breed("run", str(cfg), "--json", cwd=base))
