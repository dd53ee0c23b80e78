"""Prompt CI/CD: regression checks, shadow comparison, reviews, gated promotion, releases, export.

Modules (each small, each with its own contract):

- ``targets``: what a command argument names (a candidate, a prompt file or text, a release
  ``NAME@VERSION|@ALIAS``) and the config used to score it.
- ``stats``: paired metric deltas with bootstrap intervals, Jensen-Shannon divergence.
- ``gate``: the promotion-gate checks (pure functions over measured evidence).
- ``check``: ``breed check``: score candidate and baseline on the regression and test splits,
  list regressions and fixes, run the gate; the report and its hash.
- ``reports``: JUnit XML and Markdown renderings of a check report.
- ``shadow``: ``breed shadow``: candidate vs baseline on unlabeled traffic.
- ``review``: ``breed review`` and review comments as mutation-prompts (``--from-reviews``).
- ``release``: ``breed promote``, ``releases``, ``rollback`` (compare-and-swap alias moves).
- ``export``: ``breed export`` in json, yaml, txt, dspy and promptfoo formats.

Everything is written through the ``Store`` API; nothing here prints (the CLI renders).
"""

from __future__ import annotations
