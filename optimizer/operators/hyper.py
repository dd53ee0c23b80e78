"""Hypermutation: evolve the mutation-prompt, then apply it to the parent at once (2 calls).

- ``zero_order_hyper``: problem description + a random thinking style → a new mutation-prompt.
- ``first_order_hyper``: "Please summarize and improve the following instruction:" + the
  parent's mutation-prompt → an improved mutation-prompt.

The new mutation-prompt is then applied with the ``first_order`` template to the parent's
task-prompt; the child carries both the new task-prompt and the new mutation-prompt, so the
mutation-prompt is judged by its effect downstream (Promptbreeder). Each step's output is
validated before the next call, so a bad first answer costs one call, not two.
"""

from __future__ import annotations

from typing import ClassVar

from optimizer.operators._text import ask, check_child
from optimizer.operators.base import MutationContext
from optimizer.operators.seeds import load_seed_list
from optimizer.units import Offspring, Unit

__all__ = ["FirstOrderHyper", "ZeroOrderHyper"]


async def _apply(
    name: str, parent: Unit, ctx: MutationContext, new_mp: str, prompt: str, raw: str, **meta: str
) -> Offspring:
    check_child(
        new_mp,
        parent_text=parent.mutation_prompt,
        max_chars=ctx.max_prompt_chars,
        template=name,
        what="mutation prompt",
    )
    prompt2, raw2, text = await ask(
        ctx, "first_order", mutation_prompt=new_mp, instruction=parent.task_prompt
    )
    check_child(
        text, parent_text=parent.task_prompt, max_chars=ctx.max_prompt_chars, template="first_order"
    )
    return Offspring(
        task_prompt=text,
        mutation_prompt=new_mp,
        context=parent.context,
        operator=name,
        meta={"meta_prompts": (prompt, prompt2), "raw_outputs": (raw, raw2), **meta},
    )


class ZeroOrderHyper:
    """Zero-order hypermutation: a new mutation-prompt from D and a thinking style.

    The thinking style is drawn with ``ctx.rng`` from ``ctx.thinking_styles`` (the built-in seed
    list when the context has none).
    """

    name: ClassVar[str] = "zero_order_hyper"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        styles = ctx.thinking_styles or load_seed_list("thinking_styles")
        style = ctx.rng.choice(styles)
        prompt, raw, new_mp = await ask(
            ctx, self.name, problem_description=ctx.problem_description, thinking_style=style
        )
        return await _apply(self.name, parent, ctx, new_mp, prompt, raw, thinking_style=style)


class FirstOrderHyper:
    """First-order hypermutation: summarize and improve the parent's mutation-prompt."""

    name: ClassVar[str] = "first_order_hyper"

    async def propose(self, parent: Unit, ctx: MutationContext) -> Offspring:
        prompt, raw, new_mp = await ask(ctx, self.name, mutation_prompt=parent.mutation_prompt)
        return await _apply(self.name, parent, ctx, new_mp, prompt, raw)
