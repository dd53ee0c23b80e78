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

__all__ = ["__version__"]
