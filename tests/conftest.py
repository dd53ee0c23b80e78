"""Shared fixtures. Every test runs with a temporary home and no network beyond loopback."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_LOG", "ERROR")

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CRS_CSV = SHARED / "corpora" / "crs_payloads.csv"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("breed-home")
    monkeypatch.setenv("BREED_HOME", str(home))
    monkeypatch.setenv("DSPY_CACHEDIR", str(home / "dspy-cache"))
    monkeypatch.delenv("BREED_DB", raising=False)
    yield


@pytest.fixture
def repo() -> Path:
    return REPO
