"""Scoring prompts on examples for the engine, with a per-process memo.

Contract: ``score(prompt, examples)`` returns one ``Prediction`` per example, in order. A
(prompt text, example id) pair is sent to the gateway at most once per process: the gateway's
response cache makes repeats free of model calls, and the memo keeps them free of call-log rows.
``usage()`` reports what this scorer spent (non-cached calls, tokens, USD).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optimizer.evaluation.runner import Prediction, predict
from optimizer.tasks.base import Example, Task

if TYPE_CHECKING:
    from optimizer.config import ModelRole
    from optimizer.llm.gateway import Gateway


def prompt_key(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()


class Scorer:
    def __init__(self, gateway: Gateway, task: Task, role: ModelRole, max_memo: int = 500_000):
        self.gateway, self.task, self.role = gateway, task, role
        self._memo: dict[tuple[str, str], Prediction] = {}
        self._max_memo = max_memo

    async def score(
        self, prompt: str, examples: Sequence[Example], tags: dict[str, Any] | None = None
    ) -> list[Prediction]:
        key = prompt_key(prompt)
        todo = [ex for ex in examples if (key, ex.id) not in self._memo]
        if todo:
            preds = await predict(self.gateway, self.task, prompt, todo, self.role, tags=tags)
            if len(self._memo) + len(preds) > self._max_memo:
                self._memo.clear()
            for p in preds:
                self._memo[(key, p.example.id)] = p
        return [self._memo[(key, ex.id)] for ex in examples]
