"""Wiring: the task, prompt, data splits, store and gateway that a config names.

These are the building blocks the application layer (``optimizer.app``), the CI/CD commands and
the benchmarks share. Contracts: every function returns its result or raises an
``OptimizerError`` with a one-line message naming the fix; nothing here prints or writes to a
store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.config import Config
from optimizer.errors import ConfigError, DataError
from optimizer.tasks.base import Example, Task

if TYPE_CHECKING:
    from optimizer.llm.gateway import Gateway
    from optimizer.store import Store

MAX_PROMPT_CHARS = 100_000


def get_task(config: Config) -> Task:
    """The task named by the config (one built-in today: payload-classification)."""
    from optimizer.tasks.payloads import PAYLOAD_TASK

    if config.task != PAYLOAD_TASK.name:
        raise ConfigError(f"unknown task {config.task!r}; use payload-classification")
    return PAYLOAD_TASK


def _read_text_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text; save it as UTF-8") from None


def read_prompt(arg: str | None, config: Config) -> str:
    """The prompt text: ``arg`` (a file path, else literal text) or the config's ``prompt``.

    A config ``prompt`` is a path relative to the config file when such a file exists,
    otherwise literal text.
    """
    if arg is not None:
        p = Path(arg)
        text = _read_text_file(p, "prompt file") if _is_file(p) else arg
    elif config.prompt is not None:
        p = config.resolve(config.prompt)
        text = _read_text_file(p, "prompt file") if _is_file(p) else config.prompt
    else:
        raise ConfigError("no prompt given; pass --prompt FILE|TEXT or set prompt: in the config")
    if not text.strip():
        raise ConfigError("the prompt is empty; write an instruction in the prompt file")
    if len(text) > MAX_PROMPT_CHARS:
        raise ConfigError(
            f"the prompt has {len(text)} characters (limit {MAX_PROMPT_CHARS}); shorten it"
        )
    return text


def _is_file(p: Path) -> bool:
    try:
        return len(str(p)) < 4096 and "\n" not in str(p) and p.is_file()
    except OSError:
        return False


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    dev: list[Example]
    test: list[Example]


def data_folder(config: Config) -> Path:
    if config.data.path is None:
        raise ConfigError("data.path is not set; point it at a folder with train/dev/test.jsonl")
    folder = config.resolve(config.data.path)
    if not folder.is_dir():
        raise DataError(f"data folder {folder} not found; fix data.path in the config")
    return folder


def load_splits(config: Config, task: Task) -> Splits:
    """train, dev (cut to ``evolution.dev_limit``) and test of the config's data folder."""
    from optimizer.tasks.loaders import load_split

    folder = data_folder(config)
    mx = config.data.max_input_chars
    dev = load_split(folder, "dev", task, mx)
    if config.evolution.dev_limit:
        dev = dev[: config.evolution.dev_limit]
    test_path = folder / "test.jsonl"
    test = load_split(folder, "test", task, mx) if test_path.is_file() else []
    return Splits(train=load_split(folder, "train", task, mx), dev=dev, test=test)


def open_config_store(config: Config, db_url: str | None = None) -> Store:
    """Open (creating if needed) the store named by ``--db`` or the config."""
    from optimizer.store import open_store

    return open_store(db_url or config.store)


def build_gateway(
    config: Config,
    store: Store | None,
    *,
    used: dict[str, Any] | None = None,
) -> Gateway:
    """The gateway for a config: response cache and call log in ``store``, the config's
    budget (``used`` seeds the counters of a resumed run)."""
    from optimizer.llm.budget import Budget
    from optimizer.llm.gateway import Gateway
    from optimizer.llm.settings import GatewaySettings

    b = config.budget
    used = used or {}
    budget = Budget(
        max_calls=b.max_calls,
        max_tokens=b.max_tokens,
        max_usd=b.max_usd,
        used_calls=int(used.get("model_calls", 0)),
        used_tokens=int(used.get("tokens", 0)),
        used_usd=float(used.get("cost_usd", 0.0)),
    )
    settings = GatewaySettings.from_config(config)
    cache = store.response_cache() if (store is not None and config.llm.cache) else None
    log = store.call_log() if store is not None else None
    return Gateway(settings, cache=cache, call_log=log, budget=budget)


def gateway_stats(gateway: Gateway) -> dict[str, Any]:
    """The gateway's counters as a plain dict (model calls, cache hits, tokens, cost)."""
    s = gateway.stats()
    return {
        "model_calls": s.calls,
        "cache_hits": s.cache_hits,
        "tokens": s.total_tokens,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cost_usd": round(s.cost_usd, 8),
    }
