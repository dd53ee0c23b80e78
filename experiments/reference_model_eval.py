"""Acceptance measurements of the offline reference model ``local/reference``.

Usage: python experiments/reference_model_eval.py [--data-dir data/payloads] [--out FILE]

Measures on the payload task's ``dev`` split (never ``test``): (1) bare vs seed vs expert
prompt, (2) URL-decode directive vs recall on URL-encoded payloads, (3) clutter padding,
(4) well-chosen examples, (5) expert prompt score, (6) mutator fixed/broken on dev from train
failures, (7) prompt length after "simplify" vs "add examples" mutation-prompts,
(8) cross-process determinism, (9) task-role throughput, (10) the OWASP CRS regression corpus
(../shared/corpora/crs_payloads.csv) with a documented family map. Writes
experiments/results/reference_model.json and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from optimizer.llm.reference import ReferenceModel
from optimizer.tasks.payloads import LABELS
from optimizer.tasks.render import parse_label, render_messages

ROOT = Path(__file__).resolve().parents[1]
CRS = ROOT.parent / "shared" / "corpora" / "crs_payloads.csv"
BARE = "Classify the payload."
CLUTTER = [
    "Remember that our company values quality and teamwork in every project.",
    "The weather report for tomorrow predicts light rain in the afternoon.",
    "Please keep in mind the quarterly planning meeting is on Thursday.",
    "Coffee is available in the kitchen on the third floor.",
    "Our style guide prefers the Oxford comma in long lists.",
    "Historical note: the first web browser appeared in 1990.",
    "Parking spaces near the entrance are reserved for visitors.",
    "The office plants are watered every Monday and Thursday.",
    "Remember to back up your laptop before travelling abroad.",
    "This text was last reviewed by the documentation working group.",
    "Lunch orders must be placed before eleven o'clock.",
    "Version numbers follow the semantic versioning convention.",
]
MP_INDICATORS = "Add specific indicator keywords for the attack families the instruction missed."
MP_SIMPLIFY = "Simplify the instruction: make it shorter and more concise, remove redundant lines."
MP_EXAMPLES = "Add a worked example of a failing payload and its correct label."
CRS_MAP = {
    "sqli": "sqli",
    "xss": "xss",
    "rce": "cmdi",
    "lfi": "path_traversal",
    "rfi": "ssrf",
}
CRS_SUBLABEL_MAP = {
    "ssrf": "ssrf",
    "ssti": "ssti",
    "ldap_injection": "ldapi",
    "response_splitting": "crlf",
    "header_injection": "crlf",
    "http_splitting": "crlf",
}


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def evaluate(model: ReferenceModel, prompt: str, rows: list[dict]) -> dict:
    pred = []
    for r in rows:
        ans = model.respond(render_messages(prompt, r["payload"], LABELS))
        pred.append(parse_label(ans, LABELS))
    gold = [r["label"] for r in rows]
    acc = sum(p == g for p, g in zip(pred, gold, strict=True)) / max(1, len(rows))
    f1s, recall = [], {}
    for lab in sorted(set(gold)):
        tp = sum(p == g == lab for p, g in zip(pred, gold, strict=True))
        fp = sum(p == lab != g for p, g in zip(pred, gold, strict=True))
        fn = sum(g == lab != p for p, g in zip(pred, gold, strict=True))
        recall[lab] = round(tp / max(1, tp + fn), 3)
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return {
        "accuracy": round(acc, 4),
        "macro_f1": round(sum(f1s) / max(1, len(f1s)), 4),
        "recall": recall,
        "pred": pred,
    }


def without_url_decode(prompt: str) -> str:
    """The same prompt minus its URL-decode directive (the other directives stay)."""
    from optimizer.llm.reference.prompt_parse import parse_prompt

    out = prompt.replace("URL-decode (also double-encoded %25xx), ", "")
    out = "\n".join(ln for ln in out.splitlines() if not ln.startswith("URL-decode"))
    assert parse_prompt(prompt).directives - parse_prompt(out).directives == {"url"}
    return out


def with_clutter(prompt: str, n: int) -> str:
    lines = prompt.splitlines()
    extra = [CLUTTER[i % len(CLUTTER)] + ("" if i < len(CLUTTER) else f" ({i})") for i in range(n)]
    out = [lines[0]]
    for i, ln in enumerate(lines[1:]):
        out.append(ln)
        if i < len(extra):
            out.append(extra[i])
    return "\n".join(out + extra[len(lines) - 1 :])


def meta_prompt(instruction: str, mutation_prompt: str, failures: list[dict], got: list) -> str:
    cases = "\n".join(
        f"- input: {json.dumps(r['payload'])}\n  expected: {r['label']}\n  got: {g}"
        for r, g in zip(failures, got, strict=True)
    )
    return (
        "PROBLEM DESCRIPTION: Classify an HTTP request payload as benign or as its attack family.\n"
        "THINKING STYLE: Let's think step by step.\n"
        f"MUTATION PROMPT: {mutation_prompt}\n"
        f"INSTRUCTION:\n{instruction}\n"
        f"FAILURE CASES:\n{cases}\n"
        "INSTRUCTION MUTANT:"
    )


def mutate(
    model: ReferenceModel, text: str, temperature: float = 0.0, seed: int | None = None
) -> str:
    return model.respond([{"role": "user", "content": text}], temperature=temperature, seed=seed)


def mutator_study(model: ReferenceModel, seed_prompt: str, train: list, dev: list) -> dict:
    """(6): mutate the seed prompt from batches of train failures; fixed/broken on dev."""
    base_train = evaluate(model, seed_prompt, train)
    base_dev = evaluate(model, seed_prompt, dev)
    fails = [(r, p) for r, p in zip(train, base_train["pred"], strict=True) if p != r["label"]]
    runs = []
    for b in range(8):
        batch = fails[b * 4 : b * 4 + 4]
        if not batch:
            break
        child = mutate(
            model,
            meta_prompt(seed_prompt, MP_INDICATORS, [r for r, _ in batch], [p for _, p in batch]),
        )
        after = evaluate(model, child, dev)
        fixed = sum(
            p0 != r["label"] and p1 == r["label"]
            for r, p0, p1 in zip(dev, base_dev["pred"], after["pred"], strict=True)
        )
        broken = sum(
            p0 == r["label"] and p1 != r["label"]
            for r, p0, p1 in zip(dev, base_dev["pred"], after["pred"], strict=True)
        )
        runs.append({"fixed": fixed, "broken": broken, "accuracy": after["accuracy"]})
    wrong = sum(p != r["label"] for r, p in zip(dev, base_dev["pred"], strict=True))
    return {
        "parent_dev_accuracy": base_dev["accuracy"],
        "parent_dev_wrong": wrong,
        "runs": runs,
        "mean_fixed": round(sum(r["fixed"] for r in runs) / max(1, len(runs)), 2),
        "mean_broken": round(sum(r["broken"] for r in runs) / max(1, len(runs)), 2),
        "share_improved": round(sum(r["fixed"] > r["broken"] for r in runs) / max(1, len(runs)), 2),
    }


HILL_MPS = (
    MP_INDICATORS,
    MP_EXAMPLES,
    "Tell the reader to decode URL encoding, HTML entities and unicode escapes before deciding.",
    "Reduce false positives: state clearly which harmless inputs must stay benign.",
    MP_SIMPLIFY,
)


def hill_climb(model: ReferenceModel, seed_prompt: str, train: list, dev: list, steps: int = 30):
    """(11): a tiny greedy loop (mutate from 4 train failures, keep if train accuracy does not
    drop) -- a sanity check that the mutator + task model give an optimizer something to climb."""
    current, cur = seed_prompt, evaluate(model, seed_prompt, train)
    for step in range(steps):
        fails = [(r, p) for r, p in zip(train, cur["pred"], strict=True) if p != r["label"]]
        if not fails:
            break
        k = (step * 4) % len(fails)
        batch = (fails[k:] + fails[:k])[:4]
        mp = HILL_MPS[step % len(HILL_MPS)]
        child = mutate(
            model, meta_prompt(current, mp, [r for r, _ in batch], [p for _, p in batch])
        )
        res = evaluate(model, child, train)
        if res["accuracy"] >= cur["accuracy"]:
            current, cur = child, res
    return {
        "steps": steps,
        "seed_dev_accuracy": evaluate(model, seed_prompt, dev)["accuracy"],
        "final_train_accuracy": cur["accuracy"],
        "final_dev_accuracy": evaluate(model, current, dev)["accuracy"],
        "final_lines": len(current.splitlines()),
        "final_prompt": current,
    }


def length_study(model: ReferenceModel, prompts: list[str], train: list) -> dict:
    """(7): mean length of children under a simplify vs an add-examples mutation-prompt."""
    lens: dict[str, list[int]] = {"simplify": [], "examples": []}
    for i, p in enumerate(prompts):
        batch = train[i * 3 : i * 3 + 3]
        got = ["benign"] * len(batch)
        lens["simplify"].append(len(mutate(model, meta_prompt(p, MP_SIMPLIFY, batch, got))))
        lens["examples"].append(len(mutate(model, meta_prompt(p, MP_EXAMPLES, batch, got))))
    return {k: round(sum(v) / len(v), 1) for k, v in lens.items()} | {
        "parents": round(sum(len(p) for p in prompts) / len(prompts), 1)
    }


_DET = """
import hashlib, json, sys
from optimizer.llm.reference import ReferenceModel
from optimizer.tasks.render import render_messages
from optimizer.tasks.payloads import LABELS
reqs = json.loads(sys.stdin.read())
m = ReferenceModel()
out = [m.respond([{"role": "user", "content": r}]) if not isinstance(r, list) else
       m.respond(render_messages(r[0], r[1], LABELS)) for r in reqs]
print(hashlib.sha256(json.dumps(out).encode()).hexdigest())
"""


def determinism(requests: list) -> dict:
    digests = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", _DET],
            input=json.dumps(requests),
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        digests.append(proc.stdout.strip())
    return {"identical": digests[0] == digests[1], "digest": digests[0][:16], "n": len(requests)}


def throughput(model: ReferenceModel, prompt: str, rows: list, n: int = 20000) -> float:
    msgs = [render_messages(prompt, rows[i % len(rows)]["payload"], LABELS) for i in range(n)]
    model.respond(msgs[0])
    t0 = time.perf_counter()
    for m in msgs:
        model.respond(m)
    return round(n / (time.perf_counter() - t0), 0)


def crs_rows() -> list[dict]:
    rows = []
    with CRS.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            lab = r["label"]
            if lab in ("benign", "benign_fp_check"):
                if r["positive_elsewhere"].lower() == "true":
                    continue
                gold = "benign"
            elif lab in CRS_MAP:
                gold = CRS_MAP[lab]
            elif lab in ("generic", "protocol") and r["sublabel"] in CRS_SUBLABEL_MAP:
                gold = CRS_SUBLABEL_MAP[r["sublabel"]]
            else:
                continue
            rows.append({"payload": r["payload"], "label": gold, "family": lab})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(ROOT / "data" / "payloads"))
    ap.add_argument("--out", default=str(ROOT / "experiments" / "results" / "reference_model.json"))
    args = ap.parse_args()
    data = Path(args.data_dir)
    train, dev = load(data / "train.jsonl"), load(data / "dev.jsonl")
    model = ReferenceModel()
    seed_prompt = (ROOT / "configs/prompts/seed.txt").read_text(encoding="utf-8").strip()
    expert = (ROOT / "configs/prompts/expert.txt").read_text(encoding="utf-8").strip()
    res: dict = {
        "data_dir": str(data),
        "dev_size": len(dev),
        "train_size": len(train),
        "dev_labels": dict(Counter(r["label"] for r in dev)),
    }
    table = []

    def score(name: str, prompt: str, rows: list = dev) -> dict:
        r = evaluate(model, prompt, rows)
        res.setdefault("prompts", {})[name] = {k: v for k, v in r.items() if k != "pred"}
        table.append((name, r["accuracy"], r["macro_f1"]))
        return r

    score("bare", BARE)
    score("seed", seed_prompt)
    exp = score("expert", expert)
    score("expert+clutter12", with_clutter(expert, 12))
    score("expert+clutter30", with_clutter(expert, 30))
    no_examples = "\n".join(ln for ln in expert.splitlines() if not ln.startswith("Example:"))
    score("expert-no-examples", no_examples)
    score(
        "seed+examples",
        seed_prompt.replace(
            "If nothing matches",
            "\n".join(
                f"Example: {json.dumps(r['payload'][:160])} -> {r['label']}"
                for r in _pick_examples(train)
            )
            + "\nIf nothing matches",
        ),
    )
    shots = _pick_examples(train, 2, ("ssrf", "cmdi", "xss", "sqli"))
    score(
        "expert+examples",
        expert.replace(
            "If nothing matches",
            "\n".join(f"Example: {json.dumps(r['payload'][:160])} -> {r['label']}" for r in shots)
            + "\nIf nothing matches",
        ),
    )
    url_rows = [r for r in dev if (r.get("meta") or {}).get("encoding") in ("url", "double_url")]
    no_url = without_url_decode(expert)
    res["url_decode"] = {
        "n_url_encoded": len(url_rows),
        "recall_without_directive": _attack_recall(model, no_url, url_rows),
        "recall_with_directive": _attack_recall(model, expert, url_rows),
    }
    res["mutator"] = mutator_study(model, seed_prompt, train, dev)
    res["hill_climb"] = hill_climb(model, seed_prompt, train, dev)
    parents = [seed_prompt, expert, with_clutter(seed_prompt, 6), with_clutter(expert, 6)] * 3
    res["lengths"] = length_study(model, parents, train)
    dets = [[expert, r["payload"]] for r in dev[:200]]
    dets += [
        meta_prompt(seed_prompt, MP_INDICATORS, train[i : i + 3], ["benign"] * 3)
        for i in range(0, 30, 3)
    ]
    res["determinism"] = determinism(dets)
    res["throughput_calls_per_s"] = throughput(model, expert, dev)
    res["expert_dev_recall"] = exp["recall"]
    if CRS.exists():
        rows = crs_rows()
        res["crs"] = {"n": len(rows), "by_gold": dict(Counter(r["label"] for r in rows))}
        for name, prompt in (("bare", BARE), ("seed", seed_prompt), ("expert", expert)):
            r = evaluate(model, prompt, rows)
            res["crs"][name] = {
                "accuracy": r["accuracy"],
                "macro_f1": r["macro_f1"],
                "recall": r["recall"],
            }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _print(res, table)


def _pick_examples(
    train: list,
    per_label: int = 2,
    labels: tuple[str, ...] = ("nosqli", "ldapi", "xxe", "crlf"),
) -> list[dict]:
    """Well-chosen shots: medoids (most typical train rows) of labels the seed has no cues for."""
    from optimizer.llm.reference.tokenize import dice, ngrams

    out = []
    for lab in labels:
        rows = [r for r in train if r["label"] == lab and len(r["payload"]) < 160][:60]
        grams = [ngrams(r["payload"]) for r in rows]
        ranked = sorted(
            range(len(rows)),
            key=lambda i: -sum(dice(grams[i], g) for g in grams),
        )
        picked: list[int] = []
        for i in ranked:
            if all(rows[i]["payload"] != rows[j]["payload"] for j in picked):
                picked.append(i)
            if len(picked) == per_label:
                break
        out.extend(rows[i] for i in picked)
    return out


def _attack_recall(model: ReferenceModel, prompt: str, rows: list) -> float:
    attacks = [r for r in rows if r["label"] != "benign"]
    r = evaluate(model, prompt, attacks) if attacks else {"accuracy": 0.0}
    return r["accuracy"]


def _print(res: dict, table: list) -> None:
    out = sys.stdout
    out.write(f"{'prompt':<22}{'accuracy':>10}{'macro F1':>10}\n")
    for name, acc, f1 in table:
        out.write(f"{name:<22}{acc:>10.3f}{f1:>10.3f}\n")
    u = res["url_decode"]
    out.write(
        f"URL-encoded attacks (n={u['n_url_encoded']}): recall {u['recall_without_directive']:.3f}"
        f" without, {u['recall_with_directive']:.3f} with the URL-decode directive\n"
    )
    m = res["mutator"]
    out.write(
        f"mutator (8 runs): mean fixed {m['mean_fixed']}, mean broken {m['mean_broken']}, "
        f"improved in {m['share_improved']:.0%} of runs (parent wrong {m['parent_dev_wrong']})\n"
    )
    h = res["hill_climb"]
    out.write(
        f"greedy loop ({h['steps']} steps) from seed: dev {h['seed_dev_accuracy']:.3f} -> "
        f"{h['final_dev_accuracy']:.3f} (train {h['final_train_accuracy']:.3f}, "
        f"{h['final_lines']} lines)\n"
    )
    ln = res["lengths"]
    out.write(
        f"child length: simplify {ln['simplify']} vs add-examples {ln['examples']} "
        f"(parents {ln['parents']})\n"
    )
    d = res["determinism"]
    out.write(f"determinism across processes: {d['identical']} ({d['n']} requests)\n")
    out.write(f"throughput: {res['throughput_calls_per_s']:.0f} task calls/s\n")
    if "crs" in res:
        for name in ("bare", "seed", "expert"):
            c = res["crs"][name]
            out.write(
                f"CRS {name:<7} acc {c['accuracy']:.3f} macro F1 {c['macro_f1']:.3f} "
                f"recall {c['recall']}\n"
            )


if __name__ == "__main__":
    main()
