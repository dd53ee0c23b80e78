"""The generation loop.

One generation: select pairings (tournament or Pareto), draw the minibatch, run every proposal
concurrently (each with its own derived RNG), plan admissions in pairing order (an accepted
child replaces the pairing's loser when its dev fitness is at least the loser's), and commit
everything the generation produced in ONE store transaction together with the new population
and the run's counters. A generation that is interrupted (signal, budget, crash) commits
nothing; its model calls are in the response cache, so redoing it costs no model calls and
makes the same decisions (all randomness is derived from (seed, generation, slot)).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.engine.persist import commit_generation
from optimizer.engine.population import LoopState, Member
from optimizer.engine.propose import ProposalEnv, ProposalResult, run_proposal
from optimizer.engine.rng import derive
from optimizer.selection import make_selector

if TYPE_CHECKING:
    from optimizer.store import Store


@dataclass(frozen=True)
class GenerationOutcome:
    generation: int
    proposals: int
    accepted: int
    admitted: int
    improved: bool


def pick_minibatch(train: Sequence[Any], size: int, seed: int, generation: int) -> list[Any]:
    """The generation's minibatch: a seeded sample of ``train`` (same for every proposal)."""
    rng = derive(seed, "gen", generation, "minibatch")
    return rng.sample(list(train), min(size, len(train)))


def plan_admissions(
    population: Sequence[Member], results: Sequence[ProposalResult]
) -> list[tuple[int | None, ProposalResult]]:
    """Which population slot each accepted child takes, in pairing order.

    A child replaces ``replaces_id`` if its dev fitness is at least that member's; when the
    selector named no slot (the population may still grow), the child is appended (slot None).
    Later children see earlier replacements.
    """
    fit = [m.fitness for m in population]
    ids: list[str | None] = [m.id for m in population]
    plan: list[tuple[int | None, ProposalResult]] = []
    for r in results:
        child = r.child
        if not (r.accepted and child is not None and child.fitness is not None):
            continue
        if r.replaces_id is None:
            child.state = "evaluated"
            plan.append((None, r))
            continue
        if r.replaces_id not in ids:
            continue
        idx = ids.index(r.replaces_id)
        if child.fitness >= fit[idx]:
            fit[idx], ids[idx] = child.fitness, None
            child.state = "evaluated"
            plan.append((idx, r))
    return plan


async def run_generation(
    env: ProposalEnv, store: Store, state: LoopState, train: Sequence[Any]
) -> GenerationOutcome:
    """Run and commit generation ``state.generation + 1``; updates ``state`` in place."""
    cfg = env.config
    gen = state.generation + 1
    pareto = cfg.evolution.selection == "pareto"
    params = {"max_population": cfg.evolution.population} if pareto else {}
    selector = make_selector(cfg.evolution.selection, **params)
    by_id = {m.id: m for m in state.population}
    units = [m.unit() for m in state.population]
    scores = {m.id: [float(c) for c in m.correct] for m in state.population}
    pairings = selector.plan(units, derive(cfg.seed, "gen", gen, "select"), scores=scores)
    minibatch = pick_minibatch(train, cfg.evolution.minibatch, cfg.seed, gen)
    results: list[ProposalResult] = list(
        await asyncio.gather(
            *(
                run_proposal(
                    env,
                    generation=gen,
                    slot=i,
                    parent=by_id[p.parent_id],
                    replaces_id=p.replaces_id,
                    population=state.population,
                    minibatch=minibatch,
                )
                for i, p in enumerate(pairings)
            )
        )
    )
    plan = plan_admissions(state.population, results)
    best_before = state.best.fitness
    state.population = commit_generation(store, env, state, gen, results, plan)
    state.generation = gen
    return GenerationOutcome(
        generation=gen,
        proposals=len(results),
        accepted=sum(r.accepted for r in results),
        admitted=len(plan),
        improved=state.best.fitness > best_before,
    )
