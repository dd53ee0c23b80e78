"""End of run: score the best candidates and the seed prompt on the held-out ``test`` split.

The champion is the candidate with the best dev score (ties: earliest); ``test`` never takes
part in selection. Finalists are the ``top_k`` distinct prompts by dev score plus the seed.
The summary gets accuracy with a 95 % bootstrap interval for each, and an exact McNemar test
of champion vs seed on the same test examples. When the run configures validation
(``env.validator``), every finalist also gets robustness, injection flips, verifier overturns and
the cost-weighted score on ``test`` (``summary.finalists`` rows, ``summary.validation``), plus
the finalists on the Pareto front of per-family test recall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engine.rng import derive_seed
from optimizer.evaluation.metrics import evaluate, paired_test
from optimizer.evaluation.runner import evaluation_rows
from optimizer.units import Shot, render_prompt_text

if TYPE_CHECKING:
    from optimizer.engine.propose import ProposalEnv
    from optimizer.engine.summary import RunSummary
    from optimizer.store import Store
    from optimizer.tasks.base import Example


async def score_finalists(
    env: ProposalEnv, store: Store, test: list[Example], summary: RunSummary
) -> None:
    cands = [c for c in store.candidates(env.run_id) if c.fitness is not None]
    cands.sort(key=lambda c: (-float(c.fitness or 0.0), c.generation, c.created_at))
    seed = next((c for c in cands if c.operator == "seed"), None)
    finalists, seen = [], set()
    for c in cands:
        text = render_prompt_text(c.text, [Shot(s["input"], s["label"]) for s in c.context or []])
        if text in seen:
            continue
        seen.add(text)
        finalists.append((c, text))
        if len(finalists) >= env.config.evolution.top_k:
            break
    if seed is not None and seed.id not in {c.id for c, _ in finalists}:
        finalists.append((seed, seed.text))
    results: dict[str, Any] = {}
    labels = env.task.labels
    for c, text in finalists:
        preds = await env.scorer.score(text, test, {"run_id": env.run_id, "final": c.id})
        boot_rng = np.random.default_rng(derive_seed(env.config.seed, "final-boot") % 2**32)
        rep = evaluate([p.example.label for p in preds], [p.predicted for p in preds], labels,
                       n_boot=env.config.eval.bootstrap, rng=boot_rng)
        results[c.id] = (c, preds, rep)
    with store.transaction():
        for cid, (_c, preds, _rep) in results.items():
            store.add_evaluations(evaluation_rows(preds, run_id=env.run_id, candidate_id=cid,
                                                  split="test"))
    champion = finalists[0][0]
    summary.best_candidate = champion.id
    summary.best_dev_score = float(champion.fitness or 0.0)
    summary.finalists = [
        {
            "candidate": cid,
            "dev_score": float(c.fitness or 0.0),
            "test_accuracy": rep.accuracy,
            "test_ci": list(rep.intervals.get("accuracy", (float("nan"),) * 2)),
            "attack_recall": rep.attack_recall,
            "benign_fpr": rep.benign_fpr,
            "operator": c.operator,
            "generation": c.generation,
        }
        for cid, (c, _p, rep) in results.items()
    ]
    if env.validator is not None:
        await _validation_reports(env, results, champion.id, seed.id if seed else None, summary)
    best_rep = results[champion.id][2]
    summary.best_test_score = best_rep.accuracy
    summary.test_ci["best"] = list(best_rep.intervals.get("accuracy", ()))
    if seed is not None:
        seed_preds, seed_rep = results[seed.id][1], results[seed.id][2]
        summary.seed_candidate = seed.id
        summary.seed_dev_score = float(seed.fitness or 0.0)
        summary.seed_test_score = seed_rep.accuracy
        summary.test_ci["seed"] = list(seed_rep.intervals.get("accuracy", ()))
        pt = paired_test(
            [p.correct for p in seed_preds],
            [p.correct for p in results[champion.id][1]],
            rng=np.random.default_rng(derive_seed(env.config.seed, "paired") % 2**32),
        )
        summary.p_value = pt.p_value
        summary.significant = pt.significant() and pt.diff > 0


async def _validation_reports(
    env: ProposalEnv, results: dict[str, Any], champion_id: str, seed_id: str | None,
    summary: RunSummary,
) -> None:
    """Robustness, injection flips and verifier overturns of every finalist on ``test``, and
    the finalists on the Pareto front of per-family test recall."""
    from optimizer.validation.security import pareto_front

    reports: dict[str, dict[str, Any]] = {}
    for cid, (c, preds, _rep) in results.items():
        text = render_prompt_text(c.text, [Shot(s["input"], s["label"]) for s in c.context or []])
        reports[cid] = await env.validator.report(text, preds,
                                                  tags={"run_id": env.run_id, "final": cid})
    for row in summary.finalists:
        r = reports[row["candidate"]]
        row["cost_weighted"] = r["cost_weighted"]
        if "robustness" in r:
            row["robustness"] = r["robustness"]["robustness"]
        if "injection" in r:
            row["injection_flips"] = r["injection"]["flips"]
        if "verifier" in r:
            row["verifier_overturns"] = r["verifier"]["overturns"]
            row["verifier_right"] = r["verifier"]["right"]
            row["verifier_wrong"] = r["verifier"]["wrong"]
    summary.validation = {
        "champion": reports[champion_id],
        "seed": reports.get(seed_id) if seed_id else None,
        "family_pareto": pareto_front({cid: r["family_recall"] for cid, r in reports.items()}),
    }
