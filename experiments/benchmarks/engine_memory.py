"""Memory over a long run: 200 generations with population 20 must keep RSS flat.

The engine streams every generation to the store and keeps only the population, the champion
and a bounded scoring memo in memory. This benchmark runs the offline engine for 200
generations (population 20, dev cut to 120 examples to keep the wall time short) and samples
the resident set size after every generation.

    python experiments/benchmarks/engine_memory.py [--generations 200] [--population 20]

Writes experiments/results/engine_memory.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import optimizer  # noqa: E402,F401
from optimizer.app import start_run  # noqa: E402
from optimizer.config import load_config, parse_config  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generations", type=int, default=200)
    ap.add_argument("--population", type=int, default=20)
    args = ap.parse_args()
    base = load_config(REPO / "configs" / "quickstart.yaml")
    raw = base.public_dict()
    raw["evolution"] = {**raw["evolution"], "generations": args.generations,
                        "population": args.population, "dev_limit": 120}
    raw["budget"] = {}
    config = parse_config(raw, base_dir=base.base_dir)
    samples: list[tuple[int, float, int]] = []

    def on_progress(p) -> None:
        samples.append((p.generation, rss_mb(), p.model_calls))

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        summary = start_run(config, db_url=f"sqlite:///{tmp}/mem.db", on_progress=on_progress)
        wall = time.monotonic() - t0
        db_mb = Path(tmp, "mem.db").stat().st_size / 2**20
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by_gen = {g: r for g, r, _ in samples}
    early = by_gen.get(20, samples[0][1])
    late = samples[-1][1]
    result = {
        "generations": summary.generations,
        "population": args.population,
        "model_calls": summary.model_calls,
        "wall_s": round(wall, 1),
        "rss_mb_gen20": round(early, 1),
        "rss_mb_last": round(late, 1),
        "rss_growth_gen20_to_last_mb": round(late - early, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "db_mb": round(db_mb, 1),
        "samples": [(g, round(r, 1), c) for g, r, c in samples],
    }
    out = REPO / "experiments" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "engine_memory.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
