"""Direct and failure-driven operators: zero-order, first-order, Lamarckian, reflective.

- ``zero_order`` (Promptbreeder): problem description + "a list of 100 hints" wording, ignoring
  the parent, so the search can re-anchor to the task when it drifts.
- ``first_order`` (Promptbreeder): the parent's mutation-prompt applied to its task-prompt.
- ``lamarckian`` (Promptbreeder's working-out → task-prompt): instruction induction from inputs
  the parent classified correctly (``ctx.correct``); the parent's text is not shown.
- ``reflective`` (GEPA): mutation-prompt + instruction + the parent's failure cases (input,
  expected, got, rationale) → a revised instruction that keeps domain facts and strategies.

Every child keeps the parent's mutation-prompt and few-shot context.
"""

from __future__ import annotations

from typing import ClassVar

from optimizer.errors import ConfigError, OperatorError
from optimizer.operators._text import ask, check_child, format_failures, format_shots
from optimizer.operators.base import MutationContext
from optimizer.units import Offspring, Unit

__all__ = ["FirstOrder", "Lamarckian", "Reflective", "ZeroOrder"]


def _labels(ctx: MutationContext) -> str:
    return ", ".join(ctx.labels) if ctx.labels else "(see the problem description)"


def _child(parent: Unit, name: str, text: str, prompt: str, raw: str, **meta: object) -> Offspring:
    return Offspring(
        task_prompt=text,
        mutation_prompt=parent.mutation_prompt,
        context=parent.context,
        operator=name,
        meta={"meta_prompts": (prompt,), "raw_outputs": (raw,), **meta},
    )


class ZeroOrder:
    """Zero-order prompt generation: a fresh instruction from the problem description."""

    name: ClassVar[str] = "zero_order"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        prompt, raw, text = await ask(
            ctx, self.name, problem_description=ctx.problem_description, labels=_labels(ctx)
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw)


class FirstOrder:
    """First-order prompt generation: ``LLM(mutation-prompt + instruction)``."""

    name: ClassVar[str] = "first_order"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        prompt, raw, text = await ask(
            ctx, self.name, mutation_prompt=parent.mutation_prompt, instruction=parent.task_prompt
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw)


class Lamarckian:
    """Working-out → task-prompt: infer the instruction from correctly solved examples.

    Args:
        n_examples: how many of ``ctx.correct`` to show (sampled with ``ctx.rng``).
    """

    name: ClassVar[str] = "lamarckian"

    def __init__(self, n_examples: int = 3) -> None:
        if n_examples < 1:
            raise ConfigError(f"lamarckian: n_examples must be >= 1, got {n_examples}")
        self.n_examples = n_examples

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        if not ctx.correct:
            raise OperatorError("lamarckian needs correct examples; the parent solved none")
        k = min(self.n_examples, len(ctx.correct))
        idx = sorted(ctx.rng.sample(range(len(ctx.correct)), k))
        shots = [ctx.correct[i] for i in idx]
        prompt, raw, text = await ask(
            ctx, self.name, examples=format_shots(shots), labels=_labels(ctx)
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw, n_examples=k)


class Reflective:
    """GEPA reflective mutation from the parent's failure cases.

    At most ``ctx.max_failures`` cases are shown; when there are more, a subset is sampled with
    ``ctx.rng`` and shown in its original order.
    """

    name: ClassVar[str] = "reflective"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        if not ctx.failures:
            raise OperatorError(
                "reflective needs failure cases; the parent made no mistakes on the minibatch"
            )
        cases = ctx.failures
        if len(cases) > ctx.max_failures > 0:
            idx = sorted(ctx.rng.sample(range(len(cases)), ctx.max_failures))
            cases = tuple(cases[i] for i in idx)
        prompt, raw, text = await ask(
            ctx,
            self.name,
            mutation_prompt=parent.mutation_prompt,
            instruction=parent.task_prompt,
            failures=format_failures(cases),
            labels=_labels(ctx),
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw, n_failures=len(cases))
