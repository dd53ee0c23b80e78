"""Run one prompt over examples through the gateway and turn answers into predictions.

Contract: ``predict`` never raises for one example's failure (an LLM error on one request
becomes a prediction with ``predicted=None`` and ``error`` set); it raises only systemic errors
(``BudgetExceeded``, store errors). Predictions are returned in the order of ``examples``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.errors import BudgetExceeded
from optimizer.llm.types import ChatRequest, Completion
from optimizer.tasks.base import Example, Task
from optimizer.tasks.render import parse_label, render_messages

if TYPE_CHECKING:
    from optimizer.config import ModelRole
    from optimizer.llm.gateway import Gateway
    from optimizer.store.records import EvaluationRow


@dataclass(frozen=True, slots=True)
class Prediction:
    example: Example
    predicted: str | None
    answer: str
    completion: Completion | None
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.predicted == self.example.label


def build_request(
    task: Task, prompt: str, example: Example, role: ModelRole, tags: Mapping[str, Any]
) -> ChatRequest:
    """The chat request that asks the task model to classify one example."""
    messages = render_messages(prompt, example.input, task.labels, task.input_field)
    return ChatRequest(
        model=role.model,
        messages=messages,
        temperature=role.temperature,
        max_tokens=role.max_tokens,
        seed=0 if role.temperature > 0 else None,
        role="task",
        tags={**tags, "example_id": example.id},
    )


async def predict(
    gateway: Gateway,
    task: Task,
    prompt: str,
    examples: Sequence[Example],
    role: ModelRole,
    *,
    tags: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Prediction]:
    """Classify every example with ``prompt``; see the module contract."""
    reqs = [build_request(task, prompt, ex, role, tags or {}) for ex in examples]
    results = await gateway.complete_many(reqs, return_exceptions=True, progress=progress)
    out: list[Prediction] = []
    for ex, res in zip(examples, results, strict=True):
        if isinstance(res, BudgetExceeded):
            raise res
        if isinstance(res, BaseException):
            out.append(Prediction(ex, None, "", None, f"{type(res).__name__}: {res}"))
            continue
        label = parse_label(res.text, task.labels, task.output_field)
        out.append(Prediction(ex, label, res.text, res))
    return out


def evaluation_rows(
    predictions: Sequence[Prediction], *, run_id: str, candidate_id: str, split: str,
    repeat: int = 0,
) -> list[EvaluationRow]:
    """Rows for ``Store.add_evaluations`` (one per prediction).

    ``prediction`` is the parsed label, or the raw answer (first 200 characters) when it could
    not be parsed, so reviewers see what the model said.
    """
    from optimizer.store.records import EvaluationRow

    rows = []
    for p in predictions:
        c = p.completion
        rows.append(
            EvaluationRow(
                run_id=run_id,
                candidate_id=candidate_id,
                example_id=p.example.id,
                split=split,
                repeat=repeat,
                prediction=p.predicted if p.predicted is not None else p.answer[:200],
                label=p.example.label,
                correct=p.correct,
                score=1.0 if p.correct else 0.0,
                input_tokens=c.usage.input_tokens if c else 0,
                output_tokens=c.usage.output_tokens if c else 0,
                cost_usd=c.cost_usd if c else 0.0,
                latency_ms=c.latency_ms if c else 0.0,
                cached=bool(c and c.cached),
                error=p.error,
            )
        )
    return rows
