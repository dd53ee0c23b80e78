"""Generation 0 (Promptbreeder initialization) and rebuilding the loop state on resume.

Initialization: unit 0 is the seed prompt; units 1..N-1 are first-order mutants of the seed,
each under its own mutation-prompt (sampled from the seed set) with a thinking style prepended
to it, as in Promptbreeder's initial re-description. A mutant the operator cannot produce falls
back to the seed text (the population then starts with copies, which cost no extra calls).
Every unit is scored on dev; all of it is committed in one transaction as generation 0.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from optimizer.engine.persist import member_from, run_totals, store_candidate
from optimizer.engine.population import LoopState, Member, Pending
from optimizer.engine.propose import Spend, dev_fitness, mutation_llm
from optimizer.engine.rng import derive, derive_seed
from optimizer.errors import OperatorError
from optimizer.operators import OPERATORS
from optimizer.operators.base import MutationContext
from optimizer.units import Shot, Unit

if TYPE_CHECKING:
    from optimizer.engine.propose import ProposalEnv
    from optimizer.store import Store


async def _initial_unit(env: ProposalEnv, seed_prompt: str, i: int) -> Pending:
    cfg = env.config
    rng = derive(cfg.seed, "init", i)
    mutation_prompt = rng.choice(env.mutation_prompts)
    style = rng.choice(env.thinking_styles)
    pending = Pending(seed_prompt, mutation_prompt, (), "seed" if i == 0 else "init",
                      (), 0, meta={"thinking_style": style})
    if i > 0:
        seed = derive_seed(cfg.seed, "init", i)
        ctx = MutationContext(
            llm=mutation_llm(env, Spend(), seed, {"run_id": env.run_id, "init": i}),
            rng=rng,
            problem_description=env.task.description,
            labels=env.task.labels,
            thinking_styles=env.thinking_styles,
            mutation_prompts=env.mutation_prompts,
            max_prompt_chars=cfg.evolution.max_prompt_chars,
        )
        parent = Unit(id="seed", task_prompt=seed_prompt,
                      mutation_prompt=f"{style} {mutation_prompt}")
        try:
            off = await OPERATORS["first_order"]().propose(parent, ctx)
            pending.task_prompt = off.task_prompt
            pending.meta.update({k: list(v) if isinstance(v, tuple) else v
                                 for k, v in off.meta.items()})
        except OperatorError as err:
            pending.meta["fallback"] = str(err)
    preds = await env.scorer.score(pending.text, env.dev, {"run_id": env.run_id, "init": i})
    pending.predictions["dev"] = preds
    pending.fitness = await dev_fitness(env, pending, preds, {"run_id": env.run_id, "init": i})
    pending.state = "evaluated"
    return pending


async def initial_population(env: ProposalEnv, store: Store, seed_prompt: str) -> LoopState:
    """Create, score and commit generation 0; returns the loop state."""
    n = env.config.evolution.population
    units = await asyncio.gather(*(_initial_unit(env, seed_prompt, i) for i in range(n)))
    members: list[Member] = []
    with store.transaction():
        for u in units:
            store_candidate(store, env.run_id, u)
            members.append(member_from(u, None))
        best = max(members, key=lambda m: m.fitness)
        state = LoopState(generation=0, population=members, best=best, best_generation=0)
        store.set_population(env.run_id, 0, [m.id for m in members])
        store.update_run(env.run_id, generation=0, totals=run_totals(env, state, 0))
    return state


def restore_state(env: ProposalEnv, store: Store) -> LoopState | None:
    """Rebuild the loop state from the last committed generation (None if none)."""
    run = store.get_run(env.run_id)
    records = store.population(env.run_id, run.generation)
    if not records:
        return None
    gen = run.generation
    dev_index = {ex.id: i for i, ex in enumerate(env.dev)}
    members = []
    for c in records:
        cid = c.id
        correct = [False] * len(env.dev)
        for ev in store.evaluations(cid, split="dev"):
            if ev.example_id in dev_index:
                correct[dev_index[ev.example_id]] = bool(ev.correct)
        history = tuple(a.text for a in reversed(store.ancestors(cid, max_depth=8)))
        members.append(
            Member(
                id=c.id,
                task_prompt=c.text,
                mutation_prompt=c.mutation_prompt or "",
                context=tuple(Shot(s["input"], s["label"]) for s in (c.context or [])),
                fitness=float(c.fitness or 0.0),
                correct=tuple(correct),
                generation=c.generation,
                history=history,
            )
        )
    totals = dict(run.totals or {})
    best_id = totals.get("best_candidate")
    best = next((m for m in members if m.id == best_id), None)
    if best is None:
        best = max(members, key=lambda m: m.fitness)
        if best_id:
            c = store.get_candidate(best_id)
            if c.fitness is not None and c.fitness > best.fitness:
                best = Member(c.id, c.text, c.mutation_prompt or "", (), float(c.fitness), (),
                              c.generation)
    prior = {k: totals.get(k, 0) for k in ("model_calls", "cache_hits", "tokens", "cost_usd")}
    return LoopState(
        generation=gen,
        population=members,
        best=best,
        best_generation=int(totals.get("best_generation", 0)),
        elapsed_s=float(totals.get("elapsed_s", 0.0)),
        prior=prior,
    )
