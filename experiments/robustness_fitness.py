"""Does robustness in the fitness give a more robust champion, and at what cost in calls?

Arms (quickstart config, offline reference model, same seeds):
  plain     - the quickstart as shipped (fitness = dev accuracy, no validation stages)
  evasions  - adversary stage on: the minibatch screen includes evasive variants and successful
              evasions become failure cases for reflective mutation; fitness still accuracy
  robust    - as evasions, plus fitness = (1.0 * accuracy + 0.5 * robustness) / 1.5
  robust_v  - as robust, plus the verifier stage (its rationales annotate failure cases)
  robust_inj - as robust, plus injection flips in the fitness:
              (accuracy + 0.5 * robustness + 0.5 * (1 - flip rate)) / 2
Plus, per seed, a run that evolves the VERIFIER prompt behind the fixed seed classifier
(``validation.verifier.optimize``), compared with the default verifier prompt on test.
Every champion and the seed prompt are then measured on ``test`` by ONE evaluator
(``optimizer.validation.pipeline.candidate_report`` with evaluation seed 0, so all prompts face
the same evasive variants): accuracy, per-family recall, benign FP rate, robustness, injection
flips (5 steering payload kinds per attack), verifier overturns (right / wrong). Calls are the
optimization run's model calls (cache misses), the evaluation is not counted.

    python experiments/robustness_fitness.py [--seeds 7 1 2] [--arms plain robust]

Writes experiments/results/robustness_fitness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import optimizer  # noqa: E402,F401  (sets the litellm environment first)
from optimizer.app import build_gateway, get_task, load_splits, read_prompt, start_run  # noqa: E402
from optimizer.config import load_config, parse_config  # noqa: E402
from optimizer.store import open_store  # noqa: E402
from optimizer.units import Shot, render_prompt_text  # noqa: E402
from optimizer.validation.pipeline import candidate_report  # noqa: E402

BASE = load_config(REPO / "configs" / "quickstart.yaml")
ADV = {"adversary": {"enabled": True}}
ARMS: dict[str, dict[str, Any]] = {
    "plain": {},
    "evasions": {"validation": ADV},
    "robust": {"validation": ADV, "fitness": {"weights": {"accuracy": 1.0, "robustness": 0.5}}},
    "robust_v": {"validation": {**ADV, "verifier": {"enabled": True}},
                 "fitness": {"weights": {"accuracy": 1.0, "robustness": 0.5}}},
    "robust_inj": {"validation": {**ADV, "injection": {"enabled": True}},
                   "fitness": {"weights": {"accuracy": 1.0, "robustness": 0.5,
                                           "injection": 0.5}}},
}
EVAL = parse_config({**BASE.public_dict(), "seed": 0,
                     "validation": {"adversary": {"enabled": True},
                                    "injection": {"enabled": True},
                                    "verifier": {"enabled": True}}},
                    base_dir=BASE.base_dir)


def _slim(rep: dict[str, Any]) -> dict[str, Any]:
    out = {k: rep[k] for k in ("accuracy", "macro_f1", "cost_weighted", "attack_recall",
                               "benign_fpr", "family_recall")}
    out["robustness"] = rep["robustness"]["robustness"]
    out["robustness_detail"] = rep["robustness"]
    out["injection"] = rep["injection"]
    out["verifier"] = rep["verifier"]
    return out


def run_arm(arm: str, seed: int, workdir: Path) -> dict[str, Any]:
    raw = {**BASE.public_dict(), "seed": seed, **ARMS[arm]}
    config = parse_config(raw, base_dir=BASE.base_dir)
    db = f"sqlite:///{workdir / f'{arm}-{seed}.db'}"
    t0 = time.monotonic()
    summary = start_run(config, db_url=db)
    wall = time.monotonic() - t0
    store = open_store(db)
    try:
        c = store.get_candidate(summary.best_candidate or "")
        text = render_prompt_text(c.text, [Shot(s["input"], s["label"]) for s in c.context])
        task = get_task(EVAL)
        test = load_splits(EVAL, task).test
        gw = build_gateway(EVAL, store)
        champ = asyncio.run(candidate_report(EVAL, gw, task, text, test))
    finally:
        store.close()
    return {
        "arm": arm, "seed": seed, "calls": summary.model_calls, "tokens": summary.tokens,
        "cost_usd": summary.cost_usd, "wall_s": round(wall, 1), "champion": summary.best_candidate,
        "champion_prompt": text, "dev_fitness": summary.best_dev_score,
        "test": _slim(champ),
    }


def run_verifier_opt(seed: int, workdir: Path) -> dict[str, Any]:
    """Evolve the VERIFIER prompt behind the fixed seed classifier (validation.verifier.optimize)
    and compare the seed and champion verifier prompts on test (post-verifier labels)."""
    from optimizer.engine.scoring import Scorer
    from optimizer.validation.pipeline import DEFAULT_VERIFIER_PROMPT, Verifier, overturn_stats

    raw = {**BASE.public_dict(), "seed": seed,
           "validation": {"verifier": {"enabled": True, "optimize": True}}}
    config = parse_config(raw, base_dir=BASE.base_dir)
    db = f"sqlite:///{workdir / f'verifier-{seed}.db'}"
    summary = start_run(config, db_url=db)
    store = open_store(db)
    try:
        champion = store.get_candidate(summary.best_candidate or "").text
        task = get_task(EVAL)
        test = load_splits(EVAL, task).test
        gw = build_gateway(EVAL, store)
        preds = asyncio.run(Scorer(gw, task, EVAL.models.task).score(read_prompt(None, EVAL),
                                                                      test))
        out = {}
        for name, text in (("default", DEFAULT_VERIFIER_PROMPT), ("champion", champion)):
            verdicts = asyncio.run(Verifier(gw, task, EVAL.models.verifier, text).verify(preds))
            out[name] = overturn_stats(verdicts)
    finally:
        store.close()
    return {"seed": seed, "calls": summary.model_calls, "p_value": summary.p_value,
            "champion_verifier_prompt": champion, "test": out}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 1, 2])
    ap.add_argument("--arms", nargs="+", default=list(ARMS))
    ap.add_argument("--skip-verifier-opt", action="store_true",
                    help="skip the runs that evolve the verifier prompt")
    ap.add_argument("--out", default=str(REPO / "experiments" / "results"
                                         / "robustness_fitness.json"))
    args = ap.parse_args()
    task = get_task(EVAL)
    test = load_splits(EVAL, task).test
    seed_report = _slim(asyncio.run(candidate_report(EVAL, build_gateway(EVAL, None), task,
                                                     read_prompt(None, EVAL), test)))
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for arm in args.arms:
            for seed in args.seeds:
                r = run_arm(arm, seed, Path(tmp))
                t = r["test"]
                print(f"{arm:10s} seed {seed}: calls {r['calls']:6d}  test acc {t['accuracy']:.3f}"
                      f"  robustness {t['robustness']:.3f}  inj flips {t['injection']['flips']}"
                      f"  verifier {t['verifier']['overturns']}/{t['verifier']['right']}"
                      f"/{t['verifier']['wrong']}", flush=True)
                runs.append(r)
        verifier_opt = [] if args.skip_verifier_opt else [
            run_verifier_opt(seed, Path(tmp)) for seed in args.seeds]
    summary = {}
    for arm in args.arms:
        rs = [r for r in runs if r["arm"] == arm]
        summary[arm] = {
            "calls_mean": statistics.mean(r["calls"] for r in rs),
            "test_accuracy_mean": statistics.mean(r["test"]["accuracy"] for r in rs),
            "test_robustness_mean": statistics.mean(r["test"]["robustness"] for r in rs),
            "test_robustness": [r["test"]["robustness"] for r in rs],
            "injection_flips": [r["test"]["injection"]["flips"] for r in rs],
            "injection_to_benign": [r["test"]["injection"]["to_benign"] for r in rs],
            "verifier_overturns_right_wrong": [
                [r["test"]["verifier"][k] for k in ("overturns", "right", "wrong")] for r in rs],
        }
    for v in verifier_opt:
        d, c = v["test"]["default"], v["test"]["champion"]
        print(f"verifier opt seed {v['seed']}: calls {v['calls']}  test accuracy after verifier "
              f"{d['accuracy_after']:.3f} -> {c['accuracy_after']:.3f}  overturns right/wrong "
              f"{d['right']}/{d['wrong']} -> {c['right']}/{c['wrong']}", flush=True)
    out = {"seeds": args.seeds, "eval_seed": 0, "n_test": len(test), "seed_prompt": seed_report,
           "arms": summary, "runs": runs, "verifier_optimization": verifier_opt}
    Path(args.out).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
