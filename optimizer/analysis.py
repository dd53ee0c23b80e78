"""pandas views of the store, for researchers comparing runs and lineages.

Every function takes an open ``Store`` (``optimizer.open_store(url)``) and returns a
``pandas.DataFrame`` built from the store's frozen records; nothing here writes. Frames are
plain (no MultiIndex), with one row per entity and snake_case columns, so they can be joined,
grouped and plotted directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from optimizer.store import Store

__all__ = ["candidates", "compare", "evaluations", "lineage", "operators", "proposals", "runs"]


def runs(store: Store, limit: int | None = 200) -> pd.DataFrame:
    """One row per run: status, generation and the run's totals (calls, tokens, cost, best)."""
    rows = []
    for r in store.list_runs(limit):
        tot = {k: v for k, v in dict(r.totals or {}).items() if not isinstance(v, dict)}
        rows.append({"run_id": r.id, "name": r.name, "kind": r.kind, "status": r.status,
                     "task": r.task, "seed": r.seed, "generation": r.generation,
                     "created_at": pd.to_datetime(r.created_at, unit="s"), **tot})
    return pd.DataFrame(rows)


def candidates(store: Store, run_id: str) -> pd.DataFrame:
    """One row per candidate of a run, with its parents, operator and dev fitness."""
    return pd.DataFrame(
        [{"candidate_id": c.id, "generation": c.generation, "operator": c.operator,
          "state": c.state, "fitness": c.fitness, "parents": list(c.parent_ids),
          "n_parents": len(c.parent_ids), "prompt_chars": len(c.text),
          "content_hash": c.content_hash, "mutation_prompt": c.mutation_prompt}
         for c in store.candidates(store.get_run(run_id).id)]
    )


def proposals(store: Store, run_id: str) -> pd.DataFrame:
    """One row per proposal (accepted or rejected) with its minibatch scores and spend."""
    return pd.DataFrame(
        [{"proposal_id": p.id, "generation": p.generation, "operator": p.operator,
          "accepted": p.accepted, "reason": p.reason, "parent_score": p.parent_score,
          "child_score": p.child_score, "calls": p.calls, "tokens": p.tokens,
          "cost_usd": p.cost_usd, "mutation_prompt": p.mutation_prompt,
          "child_candidate_id": p.child_candidate_id}
         for p in store.proposals(store.get_run(run_id).id)]
    )


def operators(store: Store, run_id: str) -> pd.DataFrame:
    """Per-operator success: proposals, accepted, acceptance rate, mean minibatch gain, cost.

    This is Promptbreeder's per-operator table (share of offspring that beat their parent).
    """
    df = proposals(store, run_id)
    if df.empty:
        return pd.DataFrame(columns=["operator", "proposals", "accepted", "acceptance_rate",
                                     "mean_gain", "calls", "cost_usd"])
    df["gain"] = df["child_score"].astype(float) - df["parent_score"].astype(float)
    out = df.groupby("operator").agg(
        proposals=("proposal_id", "count"), accepted=("accepted", "sum"),
        mean_gain=("gain", "mean"), calls=("calls", "sum"), cost_usd=("cost_usd", "sum"),
    ).reset_index()
    out["acceptance_rate"] = out["accepted"] / out["proposals"]
    return out.sort_values("acceptance_rate", ascending=False).reset_index(drop=True)


def evaluations(store: Store, run_id: str, split: str | None = None) -> pd.DataFrame:
    """Every stored evaluation of a run (paged from the store), one row per example score."""
    return pd.DataFrame(
        [{"candidate_id": e.candidate_id, "example_id": e.example_id, "split": e.split,
          "repeat": e.repeat, "label": e.label, "prediction": e.prediction,
          "correct": e.correct, "cached": e.cached, "cost_usd": e.cost_usd}
         for e in store.iter_evaluations(store.get_run(run_id).id, split)]
    )


def lineage(store: Store, run_id: str) -> pd.DataFrame:
    """Parent → child edges of a run with both ends' operator, generation and fitness."""
    cands = candidates(store, run_id).set_index("candidate_id")
    edges = pd.DataFrame(store.lineage_edges(store.get_run(run_id).id),
                         columns=["child_id", "parent_id", "position"])
    if edges.empty:
        return edges
    for end in ("child", "parent"):
        sub = cands[["generation", "operator", "fitness"]].add_prefix(f"{end}_")
        edges = edges.join(sub, on=f"{end}_id")
    edges["fitness_gain"] = edges["child_fitness"] - edges["parent_fitness"]
    return edges


def compare(store: Store, run_ids: Sequence[str]) -> pd.DataFrame:
    """Runs side by side: seed vs champion on test, p-value, spend, acceptance."""
    rows = []
    for rid in run_ids:
        run = store.get_run(rid)
        tot = dict(run.totals or {})
        summ = dict(tot.get("summary") or {})
        props = store.proposals(run.id)
        cfg = dict(run.config).get("config", {})
        rows.append({
            "run_id": run.id, "name": run.name, "status": run.status, "seed": run.seed,
            "generations": run.generation,
            "selection": cfg.get("evolution", {}).get("selection"),
            "seed_test": summ.get("seed_test_score"), "best_test": summ.get("best_test_score"),
            "best_dev": tot.get("best_fitness"), "p_value": summ.get("p_value"),
            "significant": summ.get("significant"), "model_calls": tot.get("model_calls"),
            "cost_usd": tot.get("cost_usd"), "proposals": len(props),
            "accepted": sum(p.accepted for p in props),
        })
    return pd.DataFrame(rows)
