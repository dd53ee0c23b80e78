"""Scoring prompts on examples for the engine, with a bounded per-process memo.

Contract: ``score(prompt, examples)`` returns one ``Prediction`` per example, in order. Results
are memoized per prompt text for the ``max_prompts`` most recently used prompts (the population
and its fresh children), so repeated minibatch scoring of a parent costs neither model calls
(the gateway's response cache would answer anyway) nor call-log rows, while memory stays flat
over arbitrarily long runs.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
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
    def __init__(self, gateway: Gateway, task: Task, role: ModelRole, max_prompts: int = 64):
        self.gateway, self.task, self.role = gateway, task, role
        self._memo: OrderedDict[str, dict[str, Prediction]] = OrderedDict()
        self._max_prompts = max_prompts

    async def score(
        self, prompt: str, examples: Sequence[Example], tags: dict[str, Any] | None = None
    ) -> list[Prediction]:
        key = prompt_key(prompt)
        memo = self._memo.get(key)
        if memo is None:
            memo = self._memo[key] = {}
            while len(self._memo) > self._max_prompts:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        todo = [ex for ex in examples if ex.id not in memo]
        if todo:
            for p in await self._predict(prompt, todo, tags):
                memo[p.example.id] = p
        return [memo[ex.id] for ex in examples]

    async def _predict(
        self, prompt: str, examples: Sequence[Example], tags: dict[str, Any] | None
    ) -> list[Prediction]:
        """Predictions for examples not in the memo (subclasses score differently)."""
        return await predict(self.gateway, self.task, prompt, examples, self.role, tags=tags)
