"""The mutation-operator extension point: ``MutationOperator`` and its ``MutationContext``.

Contract of every operator (built-in or plugin):
- ``propose(parent, ctx)`` returns one ``Offspring`` built from ``parent`` and the read-only
  context. It proposes only: it never writes to a store and never decides acceptance.
- All randomness comes from ``ctx.rng``; all model calls go through ``ctx.llm`` (one user message
  in, the answer text out; the engine binds model, temperature, tags, budget). Given the same
  parent, context, RNG state and model answers, the result is the same.
- Unusable model output (empty, identical to the parent, longer than ``ctx.max_prompt_chars``, an
  echo of the meta-prompt) and missing inputs (no failures for ``reflective``, a population too
  small for ``eda``) raise ``OperatorError`` with the reason; the engine stores the proposal as
  rejected. Errors raised by ``ctx.llm`` (``LLMError``, ``BudgetExceeded``) propagate unchanged.
- ``Offspring.meta`` holds ``meta_prompts`` and ``raw_outputs`` (tuples, in call order) so the
  proposals table can show exactly what the mutation model saw and said.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from optimizer.units import FailureCase, Offspring, Shot, Unit

__all__ = ["LLMCall", "MutationContext", "MutationOperator"]

LLMCall = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class MutationContext:
    """Everything an operator may read besides the parent.

    Attributes:
        llm: sends one user message to the mutation model, returns the answer text.
        rng: the only source of randomness (derived from the run seed by the engine).
        problem_description: the task's description D (Promptbreeder).
        labels: the task's closed label set.
        population: the current population, with fitness (read-only snapshot).
        failures: the parent's failures on the current minibatch (may be empty).
        correct: inputs the parent classified correctly (Lamarckian working-outs, context).
        thinking_styles: seed thinking styles (zero-order hypermutation).
        mutation_prompts: seed mutation-prompts.
        max_failures: at most this many failure cases go into a reflective meta-prompt.
        max_prompt_chars: children longer than this are rejected.
    """

    llm: LLMCall
    rng: random.Random
    problem_description: str
    labels: tuple[str, ...] = ()
    population: tuple[Unit, ...] = ()
    failures: tuple[FailureCase, ...] = ()
    correct: tuple[Shot, ...] = ()
    thinking_styles: tuple[str, ...] = ()
    mutation_prompts: tuple[str, ...] = ()
    max_failures: int = 8
    max_prompt_chars: int = 4000


@runtime_checkable
class MutationOperator(Protocol):
    """Turns a parent unit into one proposed child.

    Attributes:
        name: the registry name (snake_case, following the Promptbreeder paper).
    """

    name: ClassVar[str]

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        """Propose one child of ``parent``.

        Args:
            parent: the unit to mutate.
            ctx: the read-only mutation context (model, RNG, population, failures...).

        Returns:
            The proposed ``Offspring`` (not yet evaluated). Its ``operator`` is ``self.name``.

        Raises:
            OperatorError: the model output is unusable or the context lacks what the
                operator needs; the message is the rejection reason.
        """
        ...
