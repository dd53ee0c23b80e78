"""Best test score against model calls: full engine vs no reflective mutation vs zero-order.

Variants (same seed prompt, same budget of model calls, same data, offline reference model):
  (a) full     - the quickstart operator mix (reflective mutation + Promptbreeder operators)
  (b) no_refl  - the same mix with reflective mutation removed
  (c) zero     - repeated zero-order generation only (prompts from the problem description)
For every run we record, after each generation, the cumulative model calls and the champion
(best dev score so far); afterwards each champion is scored on ``test`` through a separate
gateway whose calls are not counted. Curves are averaged over seeds on a grid of call counts.

    python experiments/benchmarks/engine_ablation.py [--seeds 3] [--max-calls 20000]

Writes experiments/results/engine_ablation.json and experiments/results/engine_ablation.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import optimizer  # noqa: E402,F401  (sets the litellm environment first)
from optimizer.app import (  # noqa: E402
    build_gateway,
    get_task,
    load_splits,
    read_prompt,
    start_run,
)
from optimizer.config import load_config, parse_config  # noqa: E402
from optimizer.engine.scoring import Scorer  # noqa: E402
from optimizer.store import open_store  # noqa: E402
from optimizer.units import Shot, render_prompt_text  # noqa: E402

BASE = load_config(REPO / "configs" / "quickstart.yaml")
FULL = dict(BASE.evolution.operators)
VARIANTS = {
    "full": FULL,
    "no_reflective": {k: v for k, v in FULL.items() if k != "reflective"},
    "zero_order": {"zero_order": 1.0},
}


def run_variant(name: str, seed: int, max_calls: int, workdir: Path) -> dict:
    raw = BASE.public_dict()
    raw["seed"] = seed
    raw["evolution"] = {**raw["evolution"], "operators": VARIANTS[name], "generations": 1000}
    raw["budget"] = {"max_calls": max_calls}
    config = parse_config(raw, base_dir=BASE.base_dir)
    db = workdir / f"{name}-{seed}.db"
    curve: list[tuple[int, str, float]] = []

    def on_progress(p) -> None:
        curve.append((p.model_calls, p.best_candidate, p.best_fitness))

    t0 = time.monotonic()
    summary = start_run(config, db_url=f"sqlite:///{db}", on_progress=on_progress)
    wall = time.monotonic() - t0
    # score every champion on test with an uncounted gateway (shares the cache)
    store = open_store(f"sqlite:///{db}")
    task = get_task(config)
    splits = load_splits(config, task)
    scorer = Scorer(build_gateway(config, store), task, config.models.task)
    seed_preds = asyncio.run(scorer.score(read_prompt(None, config), splits.test))
    seed_test = sum(p.correct for p in seed_preds) / len(seed_preds)
    test_of: dict[str, float] = {}
    for _, cid, _ in curve:
        if cid in test_of:
            continue
        c = store.get_candidate(cid)
        text = render_prompt_text(c.text, [Shot(s["input"], s["label"]) for s in c.context])
        preds = asyncio.run(scorer.score(text, splits.test))
        test_of[cid] = sum(p.correct for p in preds) / len(preds)
    store.close()
    return {
        "variant": name,
        "seed": seed,
        "wall_s": wall,
        "status": summary.status,
        "generations": summary.generations,
        "seed_test": seed_test,
        "final_test": test_of[curve[-1][1]] if curve else seed_test,
        "calls": summary.model_calls,
        "curve": [(calls, test_of[cid], dev) for calls, cid, dev in curve],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--max-calls", type=int, default=20000)
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in VARIANTS:
            for seed in range(1, args.seeds + 1):
                r = run_variant(name, seed, args.max_calls, Path(tmp))
                runs.append(r)
                print(f"{name:<14} seed {seed}: test {r['seed_test']:.3f} -> "
                      f"{r['final_test']:.3f}  calls {r['calls']}  {r['wall_s']:.1f}s",
                      flush=True)
    grid = np.linspace(0, args.max_calls, 25)
    table = {}
    for name in VARIANTS:
        rows = [r for r in runs if r["variant"] == name]
        curves = []
        for r in rows:
            xs = [0] + [c for c, _, _ in r["curve"]]
            ys = [r["seed_test"]] + [t for _, t, _ in r["curve"]]
            curves.append(np.interp(grid, xs, ys, right=ys[-1]))
        mean = np.mean(curves, axis=0)
        table[name] = {
            "seed_test_mean": float(np.mean([r["seed_test"] for r in rows])),
            "final_test_mean": float(np.mean([r["final_test"] for r in rows])),
            "final_test_per_seed": [r["final_test"] for r in rows],
            "calls_mean": float(np.mean([r["calls"] for r in rows])),
            "curve_grid": grid.tolist(),
            "curve_mean": mean.tolist(),
        }
    out = REPO / "experiments" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_ablation.json").write_text(json.dumps({"runs": runs, "summary": table},
                                                         indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, t in table.items():
            ax.plot(t["curve_grid"], [100 * y for y in t["curve_mean"]], label=name)
        ax.set_xlabel("model calls (cumulative)")
        ax.set_ylabel("champion accuracy on test, %")
        ax.set_title(f"local/reference, mean of {args.seeds} seeds")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "engine_ablation.png", dpi=110)
    except ImportError:
        print("matplotlib not installed: pip install -e '.[bench]' for the plot")
    print(f"{'variant':<14} {'seed test':>9} {'final test':>10} {'calls':>8}")
    for name, t in table.items():
        print(f"{name:<14} {t['seed_test_mean']:9.3f} {t['final_test_mean']:10.3f} "
              f"{t['calls_mean']:8.0f}")


if __name__ == "__main__":
    main()
