"""promptbreed: a self-refining prompt optimizer in the Promptbreeder family.

Importing this package is cheap: heavy dependencies (litellm, dspy, pandas) are imported lazily
by the modules that need them. Before anything can import litellm we set
``LITELLM_LOCAL_MODEL_COST_MAP`` (otherwise litellm fetches its price map from the network at
import) and point DSPy's cache below the project home so nothing writes to ``~``.
"""

from __future__ import annotations

import os as _os

_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
_os.environ.setdefault("LITELLM_LOG", "ERROR")
_os.environ.setdefault(
    "DSPY_CACHEDIR", _os.path.join(_os.environ.get("BREED_HOME", ".breed"), "dspy-cache")
)

__version__ = "0.1.0"

__all__ = ["__version__", "load_config", "open_store", "resume", "run"]


def run(config: object, *, db_url: str | None = None, name: str | None = None) -> object:
    """Run an evolution: ``config`` is a ``Config`` or a path to a YAML file.

    Returns the ``RunSummary`` (champion, seed and champion test scores, p-value, spend).
    """
    from optimizer.app import load_config as _load
    from optimizer.app import start_run

    cfg = config if not isinstance(config, (str, _os.PathLike)) else _load(config)
    return start_run(cfg, db_url=db_url, name=name)  # type: ignore[arg-type]


def resume(run_id: str, *, db_url: str | None = None) -> object:
    """Continue a stopped or killed run from its last committed generation."""
    from optimizer.app import resume_run

    return resume_run(run_id, db_url=db_url)


def __getattr__(name: str) -> object:
    """Lazy re-exports, so ``import optimizer`` stays cheap."""
    if name == "open_store":
        from optimizer.store import open_store

        return open_store
    if name == "load_config":
        from optimizer.config import load_config

        return load_config
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
