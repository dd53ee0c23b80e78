from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.config import load_config, parse_config
from optimizer.errors import ConfigError


def test_quickstart_config_loads(repo: Path) -> None:
    cfg = load_config(repo / "configs" / "quickstart.yaml")
    assert cfg.models.task.model == "local/reference"
    assert cfg.resolve(cfg.data.path or "").joinpath("dev.jsonl").is_file()


def test_unknown_key_is_rejected_with_its_path() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'llm.concurency'"):
        parse_config({"llm": {"concurency": 3}})


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"budget.max_calls"):
        parse_config({"budget": {"max_calls": 0}})


def test_bad_yaml_and_non_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("prompt: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(latin)


def test_store_path_becomes_sqlite_url() -> None:
    assert parse_config({"store": "x.db"}).store == "sqlite:///x.db"


def test_every_shipped_config_loads(repo: Path) -> None:
    configs = sorted((repo / "configs").glob("*.yaml"))
    assert len(configs) >= 2
    for path in configs:
        cfg = load_config(path)
        assert cfg.resolve(cfg.prompt or "").is_file(), path
        assert cfg.resolve(cfg.data.path or "").joinpath("train.jsonl").is_file(), path
