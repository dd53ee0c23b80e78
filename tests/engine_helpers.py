"""Helpers for engine tests: small configs on the project's data, store inspection."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def write_config(tmp: Path, **over: Any) -> Path:
    """A small, fast run config (project data, offline model) with overrides merged in."""
    cfg: dict[str, Any] = {
        "seed": 11,
        "prompt": str(REPO / "configs" / "prompts" / "seed.txt"),
        "data": {"path": str(REPO / "data" / "payloads")},
        "store": f"sqlite:///{tmp / 'breed.db'}",
        "evolution": {"population": 4, "generations": 3, "minibatch": 12, "dev_limit": 120,
                      "top_k": 2},
        "eval": {"bootstrap": 200},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def lineage_fingerprint(db: Path) -> list[tuple[Any, ...]]:
    """Everything that must match between equivalent runs (ids excluded)."""
    with sqlite3.connect(db) as c:
        cands = c.execute(
            "select content_hash, generation, operator, round(coalesce(fitness, -1), 9), state"
            " from candidates order by generation, content_hash"
        ).fetchall()
        edges = c.execute(
            "select ch.content_hash, pa.content_hash from candidate_parents e"
            " join candidates ch on ch.id = e.child_id join candidates pa on pa.id = e.parent_id"
            " order by 1, 2"
        ).fetchall()
    return cands + edges


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute(sql).fetchone()[0])
