"""The ``Task`` and ``Example`` value types.

Contracts:
- ``Example.id`` is stable across runs and machines (it names the example in the store, the
  cache key of evaluations, and regression reports).
- ``Example.label`` is always one of ``Task.labels`` for classification tasks.
- ``Example.meta`` holds optional fields: ``family``, ``encoding``, ``critical`` (bool, regression
  split only), ``first_seen`` (ISO date), ``source``, ``note``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SPLITS = ("train", "dev", "test", "regression")


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    input: str
    label: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        return bool(self.meta.get("critical", False))


@dataclass(frozen=True, slots=True)
class Task:
    """What a prompt is for.

    ``description`` is Promptbreeder's problem description D. ``labels`` is the closed label set;
    ``negative_label`` is the label that means "no attack" (benign), used for false-positive
    rates and attack recall. ``input_field``/``output_field`` name the fields for DSPy export.
    """

    name: str
    description: str
    labels: tuple[str, ...]
    negative_label: str | None = "benign"
    input_field: str = "payload"
    output_field: str = "label"
    label_descriptions: Mapping[str, str] = field(default_factory=dict)

    @property
    def positive_labels(self) -> tuple[str, ...]:
        return tuple(lab for lab in self.labels if lab != self.negative_label)

    def check_labels(self, labels: Sequence[str]) -> list[str]:
        """Return the labels not in the task's label set (empty when all are valid)."""
        known = set(self.labels)
        return sorted({lab for lab in labels if lab not in known})
