"""Estimation-of-distribution operators: EDA, EDA rank-and-index, lineage-based.

- ``eda``: the population's task-prompts in random order, without fitness, near-duplicates
  removed; the model continues the list.
- ``eda_rank_index``: the same list in *ascending* fitness (best last) under the paper's
  deliberately mismatched header "in descending order of score ... [N+1] is the best"; the
  mismatch raised diversity in Promptbreeder (otherwise the model copies the last entry).
- ``lineage``: the parent's own chronological elites (``Unit.history`` + its current prompt)
  under "GENOTYPES FOUND IN ASCENDING ORDER OF QUALITY"; not de-duplicated (as in the paper).

Near-duplicates: Promptbreeder drops entries with BERT cosine similarity > 0.95 to another
entry. We use character-trigram Jaccard similarity > ``similarity`` (default 0.95) instead:
no embedding model, deterministic, and good at what the filter is for (near-copies).

Rank and lineage lists carry a ``SCORES:`` section with each entry's *rank* (1 = worst), never
its fitness value: it says in the format contract's terms what the list order already says (a
header-driven reader such as the reference model orders by SCORES, not by position).
Children keep the parent's mutation-prompt and context.
"""

from __future__ import annotations

from typing import ClassVar

from optimizer.errors import ConfigError, OperatorError
from optimizer.operators._text import (
    ask,
    check_child,
    format_prompt_list,
    format_ranks,
    trigram_jaccard,
)
from optimizer.operators.base import MutationContext
from optimizer.units import Offspring, Unit

__all__ = ["EDA", "EDARankIndex", "Lineage"]


def _check_params(name: str, max_prompts: int, similarity: float) -> None:
    if max_prompts < 2:
        raise ConfigError(f"{name}: max_prompts must be >= 2, got {max_prompts}")
    if not 0.0 < similarity <= 1.0:
        raise ConfigError(f"{name}: similarity must be in (0, 1], got {similarity}")


def _members(parent: Unit, ctx: MutationContext) -> list[Unit]:
    """Population with the parent included, one unit per distinct task-prompt text."""
    units = list(ctx.population)
    if all(u.id != parent.id for u in units):
        units.append(parent)
    seen: set[str] = set()
    out = []
    for unit in units:
        if unit.task_prompt not in seen:
            seen.add(unit.task_prompt)
            out.append(unit)
    return out


def _filter(units: list[Unit], similarity: float, limit: int) -> list[Unit]:
    kept: list[Unit] = []
    for unit in units:
        if len(kept) == limit:
            break
        if all(trigram_jaccard(unit.task_prompt, k.task_prompt) <= similarity for k in kept):
            kept.append(unit)
    return kept


def _child(parent: Unit, name: str, text: str, prompt: str, raw: str, ids: list[str]) -> Offspring:
    return Offspring(
        task_prompt=text,
        mutation_prompt=parent.mutation_prompt,
        context=parent.context,
        operator=name,
        meta={"meta_prompts": (prompt,), "raw_outputs": (raw,), "listed_unit_ids": tuple(ids)},
    )


class EDA:
    """EDA mutation over the population (random order, no fitness shown).

    Args:
        max_prompts: list at most this many prompts.
        similarity: trigram-Jaccard threshold above which an entry counts as a near-duplicate.
    """

    name: ClassVar[str] = "eda"

    def __init__(self, max_prompts: int = 10, similarity: float = 0.95) -> None:
        _check_params(self.name, max_prompts, similarity)
        self.max_prompts, self.similarity = max_prompts, similarity

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        units = _members(parent, ctx)
        ctx.rng.shuffle(units)
        listed = _filter(units, self.similarity, self.max_prompts)
        if len(listed) < 2:
            raise OperatorError(f"{self.name} needs at least 2 distinct prompts in the population")
        prompt, raw, text = await ask(
            ctx, self.name, prompts=format_prompt_list([u.task_prompt for u in listed])
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw, [u.id for u in listed])


class EDARankIndex:
    """EDA rank-and-index mutation: fittest prompts, listed worst → best.

    Near-duplicates are filtered from the best down, so of two near-copies the fitter stays.
    Units without fitness rank lowest. ``ctx.rng`` is not used (the order is the ranking).
    """

    name: ClassVar[str] = "eda_rank_index"

    def __init__(self, max_prompts: int = 10, similarity: float = 0.95) -> None:
        _check_params(self.name, max_prompts, similarity)
        self.max_prompts, self.similarity = max_prompts, similarity

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        units = _members(parent, ctx)
        units.sort(
            key=lambda u: (u.fitness if u.fitness is not None else float("-inf"), u.id),
            reverse=True,
        )
        listed = _filter(units, self.similarity, self.max_prompts)[::-1]
        if len(listed) < 2:
            raise OperatorError(f"{self.name} needs at least 2 distinct prompts in the population")
        prompt, raw, text = await ask(
            ctx,
            self.name,
            prompts=format_prompt_list([u.task_prompt for u in listed]),
            scores=format_ranks(len(listed)),
            last=str(len(listed)),
            next=str(len(listed) + 1),
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return _child(parent, self.name, text, prompt, raw, [u.id for u in listed])


class Lineage:
    """Lineage-based mutation: continue the parent's own history of elites.

    Args:
        max_history: show at most the last ``max_history`` genotypes (the current one included).
    """

    name: ClassVar[str] = "lineage"

    def __init__(self, max_history: int = 10) -> None:
        if max_history < 1:
            raise ConfigError(f"lineage: max_history must be >= 1, got {max_history}")
        self.max_history = max_history

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        history = list(parent.history)
        if not history or history[-1] != parent.task_prompt:
            history.append(parent.task_prompt)
        history = history[-self.max_history :]
        prompt, raw, text = await ask(
            ctx, self.name, prompts=format_prompt_list(history), scores=format_ranks(len(history))
        )
        check_child(
            text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template=self.name
        )
        return Offspring(
            task_prompt=text,
            mutation_prompt=parent.mutation_prompt,
            context=parent.context,
            operator=self.name,
            meta={"meta_prompts": (prompt,), "raw_outputs": (raw,), "history_len": len(history)},
        )
