"""Operators without a model call: prompt crossover and context shuffling (Promptbreeder).

- ``crossover``: the parent's task-prompt is replaced by the task-prompt of another unit chosen
  by fitness-proportionate (roulette) selection with ``ctx.rng``; the parent keeps its
  mutation-prompt and context. In the paper this runs after a mutation with probability 0.1; here
  it is an operator like the others, and its rate is its weight in the operator mix.
- ``context_shuffle``: the few-shot context holds only correct examples (``ctx.correct``).
  While it is not full, one new shot is added; when full, one random shot is replaced; with
  probability ``resample_prob`` (paper: 0.1) the whole context is resampled.
"""

from __future__ import annotations

from typing import ClassVar

from optimizer.errors import ConfigError, OperatorError
from optimizer.operators.base import MutationContext
from optimizer.units import Offspring, Shot, Unit, render_prompt_text

__all__ = ["ContextShuffle", "Crossover"]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


class Crossover:
    """Prompt crossover: take another unit's task-prompt, chosen by fitness roulette.

    Weights are the donors' fitness (missing or negative fitness counts as 0); when every
    weight is 0 the donor is drawn uniformly. Donors with the parent's own text are skipped.
    """

    name: ClassVar[str] = "crossover"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        own = _norm(parent.task_prompt)
        donors = [u for u in ctx.population if u.id != parent.id and _norm(u.task_prompt) != own]
        if not donors:
            raise OperatorError("crossover needs another unit with a different task-prompt")
        weights = [max(u.fitness or 0.0, 0.0) for u in donors]
        if sum(weights) <= 0.0:
            weights = [1.0] * len(donors)
        donor = ctx.rng.choices(donors, weights=weights, k=1)[0]
        return Offspring(
            task_prompt=donor.task_prompt,
            mutation_prompt=parent.mutation_prompt,
            context=parent.context,
            operator=self.name,
            meta={"meta_prompts": (), "raw_outputs": (), "donor_id": donor.id},
        )


class ContextShuffle:
    """Add, replace or resample few-shot shots from the parent's correct examples.

    Args:
        size: the context is full at this many shots.
        resample_prob: probability of resampling the whole context.
        max_shot_chars: shots with longer inputs are never used (they would bloat the prompt).
    """

    name: ClassVar[str] = "context_shuffle"

    def __init__(
        self, size: int = 3, resample_prob: float = 0.1, max_shot_chars: int = 300
    ) -> None:
        if size < 1:
            raise ConfigError(f"context_shuffle: size must be >= 1, got {size}")
        if not 0.0 <= resample_prob <= 1.0:
            raise ConfigError(
                f"context_shuffle: resample_prob must be in [0, 1], got {resample_prob}"
            )
        self.size, self.resample_prob, self.max_shot_chars = size, resample_prob, max_shot_chars

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        shots = list(dict.fromkeys(s for s in ctx.correct if len(s.input) <= self.max_shot_chars))
        if not shots:
            raise OperatorError("context_shuffle needs correct examples; ctx.correct has none")
        context = list(parent.context)
        fresh = [s for s in shots if s not in context]
        if not context or ctx.rng.random() < self.resample_prob:
            action = "resample"
            context = ctx.rng.sample(shots, min(self.size, len(shots)))
        elif not fresh:
            raise OperatorError("context_shuffle has no new correct examples to use")
        elif len(context) < self.size:
            action = "add"
            context.append(ctx.rng.choice(fresh))
        else:
            action = "replace"
            context[ctx.rng.randrange(len(context))] = ctx.rng.choice(fresh)
        new: tuple[Shot, ...] = tuple(context)
        if new == parent.context:
            raise OperatorError("context_shuffle produced the parent's context unchanged")
        rendered = render_prompt_text(parent.task_prompt, new)
        if len(rendered) > ctx.max_prompt_chars:
            raise OperatorError(
                f"prompt with context too long: {len(rendered)} > {ctx.max_prompt_chars} characters"
            )
        return Offspring(
            task_prompt=parent.task_prompt,
            mutation_prompt=parent.mutation_prompt,
            context=new,
            operator=self.name,
            meta={"meta_prompts": (), "raw_outputs": (), "action": action},
        )
