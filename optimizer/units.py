"""Value types that flow between the engine, the mutation operators and the selectors.

Contracts:
- All types are frozen, slotted dataclasses; none of them is an ORM row. The engine builds them
  from the store and persists what operators return; operators and selectors never see the store.
- ``Unit.history`` is the unit's chronological list of elite task-prompts (oldest first), used by
  lineage-based mutation. ``Unit.context`` is the few-shot context: correct (input, label) shots.
- ``render_prompt(unit)`` is the exact prompt text that gets evaluated: the task-prompt, then one
  ``Example: <input as a JSON string> -> <label>`` line per shot. Inputs are JSON string literals
  so any payload (newlines, quotes, markers) stays on one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FailureCase",
    "Offspring",
    "Shot",
    "Unit",
    "json_line",
    "render_prompt",
    "render_prompt_text",
]

# Characters that json.dumps(ensure_ascii=False) leaves alone but str.splitlines() splits on.
_LINE_BREAKERS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(text: str) -> str:
    """``text`` as a JSON string literal guaranteed to stay on one line.

    Non-ASCII stays readable (``ensure_ascii=False``) except the few characters that
    ``str.splitlines`` treats as line breaks, which are escaped; ``json.loads`` round-trips it.
    """
    out = json.dumps(text, ensure_ascii=False)
    for char, escaped in _LINE_BREAKERS.items():
        out = out.replace(char, escaped)
    return out


@dataclass(frozen=True, slots=True)
class Shot:
    """One few-shot example: an input and its correct label."""

    input: str
    label: str


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of evolution: task-prompt + mutation-prompt (+ few-shot context)."""

    id: str
    task_prompt: str
    mutation_prompt: str
    context: tuple[Shot, ...] = ()
    fitness: float | None = None
    generation: int = 0
    history: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureCase:
    """An input the parent got wrong: what was expected, what it said, and why (optional).

    ``rationale`` is free text: the verifier's reasoning, the evaluator's feedback, or a note
    that the input is a successful evasive rewrite.
    """

    input: str
    expected: str
    got: str | None
    rationale: str | None = None


@dataclass(frozen=True, slots=True)
class Offspring:
    """What an operator proposes; the engine scores, accepts or rejects, and persists it.

    ``meta`` always holds ``meta_prompts`` (the rendered meta-prompts, in call order) and
    ``raw_outputs`` (the mutation model's raw answers), both tuples of str (empty for operators
    that make no call), plus operator-specific JSON-serializable keys. Treat it as read-only.
    """

    task_prompt: str
    mutation_prompt: str
    context: tuple[Shot, ...]
    operator: str
    meta: Mapping[str, Any] = field(default_factory=dict)


def render_prompt_text(task_prompt: str, context: Sequence[Shot] = ()) -> str:
    """The evaluated prompt for a task-prompt and a few-shot context."""
    if not context:
        return task_prompt
    lines = [f"Example: {json_line(shot.input)} -> {shot.label}" for shot in context]
    return task_prompt.rstrip("\n") + "\n" + "\n".join(lines)


def render_prompt(unit: Unit) -> str:
    """The evaluated prompt text of ``unit`` (task-prompt plus its few-shot example lines)."""
    return render_prompt_text(unit.task_prompt, unit.context)
