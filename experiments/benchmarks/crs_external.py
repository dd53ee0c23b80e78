"""External held-out benchmark: seed vs optimized prompts on the OWASP CRS regression corpus.

The CRS corpus (``../shared/corpora/crs_payloads.csv``, written by the CRS authors, never used
for training or selection) is imported with ``optimizer.tasks.crs.import_crs`` and its default
family map (sqli, xss, rce->cmdi, lfi->path_traversal, rfi and generic/ssrf->ssrf,
generic/ssti->ssti, protocol ldap_injection->ldapi, protocol header_injection /
response_splitting / http_splitting->crlf; negative tests with ``positive_elsewhere=true`` are
left out of benign). For every prompt we report, per CRS family, the detection rate (any attack
label, comparable with libinjection's yes/no answer) and the exact-family recall, and the false
positive rate on the benign rows (999999 exceptions and ``benign_fp_check``), next to the
libinjection figures of the corpus README. The optimized prompts are the champions recorded
in ``experiments/results/robustness_fitness.json`` (run that first); "+ verifier" is the
classify -> verify pipeline with the default verifier prompt.

    python experiments/benchmarks/crs_external.py [--decoded]

Writes experiments/results/crs_external.json (raw payloads) or crs_external_decoded.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import optimizer  # noqa: E402,F401  (sets the litellm environment first)
from optimizer.app import build_gateway, get_task  # noqa: E402
from optimizer.config import load_config  # noqa: E402
from optimizer.engine.scoring import Scorer  # noqa: E402
from optimizer.tasks.crs import import_crs  # noqa: E402
from optimizer.validation.pipeline import Verifier  # noqa: E402

CSV = REPO.parent / "shared" / "corpora" / "crs_payloads.csv"
RESULTS = REPO / "experiments" / "results"
# libinjection-python 1.1.6, from the corpus README (raw payload / payload_decoded)
LIBINJECTION = {
    "sqli": {"raw": 0.097, "decoded": 0.154},
    "xss": {"raw": 0.423, "decoded": 0.500},
    "benign (999999)": {"raw": 0.0, "decoded": 0.0},
    "benign_fp_check": {"raw": None, "decoded": 0.069},
}


def family_of(meta: Any) -> str:
    crs = meta["crs_label"]
    if crs == "benign":
        return "benign (999999)"
    if crs in ("generic", "protocol"):
        return f"{crs}/{meta['sublabel']}"
    return crs


def measure(examples: list[Any], labels: list[str | None], negative: str) -> dict[str, Any]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "detected": 0, "exact": 0})
    for ex, lab in zip(examples, labels, strict=True):
        r = rows[family_of(ex.meta)]
        r["n"] += 1
        r["detected"] += lab is not None and lab != negative
        r["exact"] += lab == ex.label
    out = {}
    for fam, r in sorted(rows.items()):
        out[fam] = {"n": r["n"], "detected": r["detected"] / r["n"], "exact": r["exact"] / r["n"]}
    benign = [lab for ex, lab in zip(examples, labels, strict=True) if ex.label == negative]
    attacks = [(ex, lab) for ex, lab in zip(examples, labels, strict=True) if ex.label != negative]
    out["ALL attacks"] = {
        "n": len(attacks),
        "detected": sum(lab is not None and lab != negative for _, lab in attacks) / len(attacks),
        "exact": sum(lab == ex.label for ex, lab in attacks) / len(attacks),
    }
    out["ALL benign (FP rate)"] = {
        "n": len(benign),
        "detected": sum(lab is not None and lab != negative for lab in benign) / len(benign),
        "exact": sum(lab == negative for lab in benign) / len(benign),
    }
    return out


def prompts() -> dict[str, str]:
    out = {"seed": (REPO / "configs" / "prompts" / "seed.txt").read_text(encoding="utf-8")}
    path = RESULTS / "robustness_fitness.json"
    if not path.is_file():
        raise SystemExit("run experiments/robustness_fitness.py first (it records champions)")
    data = json.loads(path.read_text())
    for run in data["runs"]:
        if run["seed"] == data["seeds"][0]:
            out[f"champion ({run['arm']})"] = run["champion_prompt"]
    return out


async def main_async(decoded: bool) -> dict[str, Any]:
    config = load_config(REPO / "configs" / "quickstart.yaml")
    task = get_task(config)
    examples, skipped = import_crs(CSV, use_decoded=decoded)
    gateway = build_gateway(config, None)
    scorer = Scorer(gateway, task, config.models.task, max_prompts=8)
    verifier = Verifier(gateway, task, config.models.verifier)
    neg = task.negative_label or "benign"
    results: dict[str, Any] = {}
    for name, text in prompts().items():
        preds = await scorer.score(text, examples)
        results[name] = measure(examples, [p.predicted for p in preds], neg)
        if name.startswith("seed") or "plain" in name or "robust_v" in name:
            verdicts = await verifier.verify(preds)
            results[f"{name} + verifier"] = measure(examples, [v.final for v in verdicts], neg)
    return {"payload_column": "payload_decoded" if decoded else "payload",
            "n": len(examples), "skipped": skipped, "libinjection": LIBINJECTION,
            "results": results, "model_calls": gateway.stats().calls}


def table(out: dict[str, Any]) -> str:
    col = "decoded" if out["payload_column"] == "payload_decoded" else "raw"
    names = list(out["results"])
    fams = list(next(iter(out["results"].values())))
    head = "| CRS family | n | " + " | ".join(names) + f" | libinjection ({col}) |"
    lines = [head, "|" + "---|" * (len(names) + 3)]
    for fam in fams:
        n = out["results"][names[0]][fam]["n"]
        cells = []
        for nm in names:
            r = out["results"][nm][fam]
            cells.append(f"{100 * r['detected']:.1f} ({100 * r['exact']:.1f})")
        lib = LIBINJECTION.get(fam, {}).get(col)
        lib_s = "n/a" if lib is None else f"{100 * lib:.1f}"
        lines.append(f"| {fam} | {n} | " + " | ".join(cells) + f" | {lib_s} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decoded", action="store_true", help="use the payload_decoded column")
    args = ap.parse_args()
    out = asyncio.run(main_async(args.decoded))
    out["table_markdown"] = table(out)
    name = "crs_external_decoded.json" if args.decoded else "crs_external.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(out["table_markdown"])


if __name__ == "__main__":
    main()
