"""Writing a generation (and the initial population) to the store in one transaction.

Contract: ``commit_generation`` is the engine's only writer during the loop. It stores, inside
one ``store.transaction()``: every child candidate (accepted or rejected) with its parent edge,
its minibatch and dev evaluations, the parents' minibatch evaluations, one proposal row per
pairing (operator, mutation-prompt, raw output, reason, spend), the new population and the
run's counters. Evaluation inserts are idempotent, so nothing is ever stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optimizer.engine.population import Member, Pending
from optimizer.evaluation.runner import evaluation_rows

if TYPE_CHECKING:
    from optimizer.engine.population import LoopState
    from optimizer.engine.propose import ProposalEnv, ProposalResult
    from optimizer.store import Store


def store_candidate(store: Store, run_id: str, child: Pending) -> str:
    """Add one pending candidate and its evaluations; sets and returns ``child.id``."""
    rec = store.add_candidate(
        run_id,
        child.task_prompt,
        generation=child.generation,
        operator=child.operator,
        mutation_prompt=child.mutation_prompt,
        parent_ids=list(child.parent_ids),
        context=[{"input": s.input, "label": s.label} for s in child.context],
        meta=_jsonable(child.meta),
        state=child.state,
    )
    child.id = rec.id
    if child.fitness is not None:
        store.update_candidate(rec.id, fitness=child.fitness, dev_score=child.fitness)
    for split, preds in child.predictions.items():
        store.add_evaluations(
            evaluation_rows(preds, run_id=run_id, candidate_id=rec.id, split=split)
        )
    return rec.id


def member_from(child: Pending, parent: Member | None) -> Member:
    assert child.id is not None and child.fitness is not None
    history = (*parent.history, parent.task_prompt)[-8:] if parent else ()
    return Member(
        id=child.id,
        task_prompt=child.task_prompt,
        mutation_prompt=child.mutation_prompt,
        context=child.context,
        fitness=child.fitness,
        correct=tuple(p.correct for p in child.predictions.get("dev", [])),
        generation=child.generation,
        history=history,
    )


def commit_generation(
    store: Store,
    env: ProposalEnv,
    state: LoopState,
    gen: int,
    results: Sequence[ProposalResult],
    plan: Sequence[tuple[int | None, ProposalResult]],
) -> list[Member]:
    """See the module contract. Returns the new population; updates ``state.best``."""
    run_id = env.run_id
    best: Member | None = None
    with store.transaction():
        for r in results:
            store.add_evaluations(
                evaluation_rows(r.parent_minibatch, run_id=run_id, candidate_id=r.parent.id,
                                split="train")
            )
            child_id = store_candidate(store, run_id, r.child) if r.child is not None else None
            meta = r.child.meta if r.child is not None else {}
            store.add_proposal(
                run_id,
                generation=gen,
                operator=r.operator,
                parent_ids=[r.parent.id],
                mutation_prompt=r.parent.mutation_prompt,
                raw_output="\n---\n".join(meta.get("raw_outputs", [])),
                accepted=r.accepted,
                reason=r.reason,
                child_candidate_id=child_id,
                calls=r.spend.calls,
                tokens=r.spend.tokens,
                cost_usd=r.spend.cost_usd,
                parent_score=r.mb_before,
                child_score=r.mb_after,
                minibatch=[p.example.id for p in r.parent_minibatch],
                meta={"meta_prompts": list(meta.get("meta_prompts", []))},
            )
            child = r.child
            if child is not None and child.fitness is not None:
                cand = member_from(child, r.parent)
                if best is None or cand.fitness > best.fitness:
                    best = cand
        population = list(state.population)
        for idx, r in plan:
            assert r.child is not None
            if idx is None:
                population.append(member_from(r.child, r.parent))
            else:
                population[idx] = member_from(r.child, r.parent)
        store.set_population(run_id, gen, [m.id for m in population])
        if best is not None and best.fitness > state.best.fitness:
            state.best, state.best_generation = best, gen
        store.update_run(run_id, generation=gen, totals=run_totals(env, state, gen))
    return population


def run_totals(env: ProposalEnv, state: LoopState, gen: int) -> dict[str, Any]:
    """The run's cumulative counters (this process plus earlier ones, for resumed runs)."""
    s = env.gateway.stats()
    p = state.prior
    return {
        "generation": gen,
        "model_calls": int(p.get("model_calls", 0)) + s.calls,
        "cache_hits": int(p.get("cache_hits", 0)) + s.cache_hits,
        "tokens": int(p.get("tokens", 0)) + s.total_tokens,
        "cost_usd": float(p.get("cost_usd", 0.0)) + s.cost_usd,
        "best_fitness": state.best.fitness,
        "best_candidate": state.best.id,
        "best_generation": state.best_generation,
        "elapsed_s": state.elapsed_s,
    }


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in meta.items():
        out[k] = list(v) if isinstance(v, tuple) else v
    return out
