"""One proposal: choose an operator, mutate the parent, screen the child on the minibatch,
and (only if it improves) score it on the full dev split.

Contract: ``run_proposal`` never writes to the store and never raises ``OperatorError`` (an
unusable child becomes a rejected ``Pending`` with the reason in ``meta["reason"]``); it lets
``BudgetExceeded`` and cancellation propagate so the engine can discard the generation.
With ``env.validator`` (validation configured, see docs/validation.md) the minibatch also holds
the evasive variants of its attacks, failure cases carry evasion/verifier rationales, and the
dev fitness is the configured weighted combination (``dev_fitness``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optimizer.engine.population import Member, Pending, fitness_of
from optimizer.engine.rng import derive, derive_seed
from optimizer.errors import OperatorError
from optimizer.llm.types import ChatRequest, Completion
from optimizer.operators import OPERATORS, choose_operator
from optimizer.operators.base import MutationContext
from optimizer.tasks.base import Example
from optimizer.units import FailureCase, Shot

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.engine.scoring import Scorer
    from optimizer.llm.gateway import Gateway
    from optimizer.tasks.base import Task


@dataclass
class Spend:
    """Model usage of one proposal (non-cached calls only count as calls)."""

    calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def add(self, c: Completion | None) -> None:
        if c is None or c.cached:
            return
        self.calls += 1
        self.tokens += c.usage.total_tokens
        self.cost_usd += c.cost_usd


@dataclass
class ProposalResult:
    slot: int
    parent: Member
    replaces_id: str | None
    child: Pending | None
    operator: str
    accepted: bool
    reason: str
    parent_minibatch: list[Any] = field(default_factory=list)
    spend: Spend = field(default_factory=Spend)
    mb_before: float = 0.0
    mb_after: float | None = None


@dataclass(frozen=True)
class ProposalEnv:
    """What every proposal of a run shares."""

    config: Config
    task: Task
    gateway: Gateway
    scorer: Scorer
    dev: Sequence[Example]
    thinking_styles: tuple[str, ...]
    mutation_prompts: tuple[str, ...]
    run_id: str
    validator: Any = None  # optimizer.validation.engine.Validator, or None (no validation)


def mutation_llm(env: ProposalEnv, spend: Spend, seed: int, tags: dict[str, Any]):
    """The ``ctx.llm`` callable: one user message to the mutation model, seeded per call."""
    role = env.config.models.mutation
    counter = [0]

    async def call(text: str) -> str:
        counter[0] += 1
        req = ChatRequest(
            model=role.model,
            messages=({"role": "user", "content": text},),
            temperature=role.temperature,
            max_tokens=role.max_tokens,
            seed=derive_seed(seed, "call", counter[0]) % (2**31),
            role="mutation",
            tags={**tags, "call": counter[0]},
        )
        completion = await env.gateway.complete(req)
        spend.add(completion)
        return completion.text

    return call


def _spend_preds(spend: Spend, preds: Sequence[Any]) -> None:
    for p in preds:
        spend.add(p.completion)


async def dev_fitness(
    env: ProposalEnv, pending: Pending, dev_preds: Sequence[Any], tags: dict[str, Any],
    spend: Spend | None = None,
) -> float:
    """Fitness of a candidate from its dev predictions (plus validation stages when configured;
    their components go to ``pending.meta["fitness_components"]``)."""
    if env.validator is None:
        return fitness_of(dev_preds, env.config.evolution.fitness, env.task.labels)
    fit, parts = await env.validator.fitness(pending.text, dev_preds, tags=tags,
                                             on_completion=spend.add if spend else None)
    pending.meta["fitness_components"] = parts
    return float(fit)


async def run_proposal(
    env: ProposalEnv,
    *,
    generation: int,
    slot: int,
    parent: Member,
    replaces_id: str | None,
    population: Sequence[Member],
    minibatch: Sequence[Example],
) -> ProposalResult:
    """See the module contract."""
    cfg = env.config
    seed = derive_seed(cfg.seed, "gen", generation, "slot", slot)
    rng = derive(cfg.seed, "gen", generation, "slot", slot, "ops")
    tags = {"run_id": env.run_id, "generation": generation, "slot": slot}
    spend = Spend()
    if env.validator is not None:  # minibatch plus the evasive variants of its attacks
        minibatch = await env.validator.screen_examples(minibatch, tags=tags,
                                                        on_completion=spend.add)
    parent_preds = await env.scorer.score(parent.text, minibatch, {**tags, "who": "parent"})
    _spend_preds(spend, parent_preds)
    before = sum(p.correct for p in parent_preds)
    if env.validator is not None:
        failures = await env.validator.failure_cases(parent_preds, tags=tags,
                                                     on_completion=spend.add)
    else:
        failures = tuple(
            FailureCase(p.example.input, p.example.label, p.predicted, p.error)
            for p in parent_preds
            if not p.correct
        )
    correct = tuple(Shot(p.example.input, p.example.label) for p in parent_preds if p.correct)
    op_name = choose_operator(cfg.evolution.operators, rng)
    ctx = MutationContext(
        llm=mutation_llm(env, spend, seed, tags),
        rng=rng,
        problem_description=env.task.description,
        labels=env.task.labels,
        population=tuple(m.unit() for m in population),
        failures=failures,
        correct=correct,
        thinking_styles=env.thinking_styles,
        mutation_prompts=env.mutation_prompts,
        max_failures=cfg.evolution.max_failures,
        max_prompt_chars=cfg.evolution.max_prompt_chars,
    )
    result = ProposalResult(slot, parent, replaces_id, None, op_name, False, "",
                            list(parent_preds), spend, before / max(len(minibatch), 1))
    try:
        off = await OPERATORS[op_name]().propose(parent.unit(), ctx)
    except OperatorError as err:
        result.reason = f"operator: {err}"
        return result
    child = Pending(
        task_prompt=off.task_prompt,
        mutation_prompt=off.mutation_prompt,
        context=tuple(off.context),
        operator=op_name,
        parent_ids=(parent.id,),
        generation=generation,
        meta={k: list(v) if isinstance(v, tuple) else v for k, v in off.meta.items()},
    )
    result.child = child
    if child.text == parent.text and child.mutation_prompt == parent.mutation_prompt:
        result.reason = "child identical to parent"
        return result
    child_preds = await env.scorer.score(child.text, minibatch, {**tags, "who": "child"})
    _spend_preds(spend, child_preds)
    child.predictions["train"] = child_preds
    after = sum(p.correct for p in child_preds)
    result.mb_after = after / max(len(minibatch), 1)
    strict = cfg.evolution.acceptance == "strict"
    if after < before or (strict and after == before):
        result.reason = f"minibatch {after}/{len(minibatch)} not better than parent {before}"
        return result
    dev_preds = await env.scorer.score(child.text, env.dev, {**tags, "who": "child-dev"})
    _spend_preds(spend, dev_preds)
    child.predictions["dev"] = dev_preds
    child.fitness = await dev_fitness(env, child, dev_preds, {**tags, "who": "child-dev"}, spend)
    child.state = "evaluated"
    result.accepted = True
    result.reason = f"minibatch {after}/{len(minibatch)} > parent {before}; dev {child.fitness:.4f}"
    return result
