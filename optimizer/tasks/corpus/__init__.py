"""The project's own labeled payload corpus: a documented, deterministic generator.

Run ``python -m optimizer.tasks.corpus.generate --out data/payloads --seed 7`` to write
``{train,dev,test,regression}.jsonl`` and ``manifest.json``. Same seed + same
``GENERATOR_VERSION`` = byte-identical files.

Modules:
- ``common``: the ``Sample`` record and shared vocabularies (parameter names, hosts, tables).
- ``attacks_injection`` / ``attacks_web``: per-family template grammars (one function = one
  template group; groups never straddle the train/dev/test splits).
- ``benign``: realistic and deliberately hard benign inputs.
- ``contexts``: where a payload sits (bare value, query string, JSON field, header, form, cookie,
  path); ``encodings``: evasion/obfuscation transforms.
- ``edge_cases``: hand-written hard cases (benign look-alikes and tricky attacks).
- ``regression``: the historical-artifact split with ``first_seen``, ``critical`` and ``incident``.
- ``generate``: split assembly, deduplication, JSONL + manifest writer and the CLI entry.

Nothing here is derived from external corpora; the data is the project's own.
"""

from __future__ import annotations

GENERATOR_VERSION = "1.1.0"

__all__ = ["GENERATOR_VERSION"]
