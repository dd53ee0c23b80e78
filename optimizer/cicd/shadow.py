"""``breed shadow``: candidate and baseline side by side on unlabeled traffic.

Contracts:
- ``read_traffic(path, input_col)`` reads a ``.jsonl`` file (one JSON object with the input
  column per line, or one JSON string per line) or a ``.csv``/``.tsv`` file with a header. The
  whole file is validated before anything is scored: a broken line, a missing column, a
  non-UTF-8 file or an empty file raises ``DataError`` naming the line and the fix, and then
  nothing is written to the store.
- ``run_shadow`` reports the agreement rate (share of inputs both prompts label the same),
  both predicted-label distributions, their Jensen-Shannon divergence (bits, 0..1), and the
  top disagreements (attack-vs-benign disagreements first, then the most frequent inputs).
- It stores a run of kind ``shadow`` with the summary in its totals and one evaluation per
  prompt and distinct input in split ``shadow`` (no label, ``correct`` unset).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.cicd.stats import js_divergence, label_counts
from optimizer.errors import DataError

if TYPE_CHECKING:
    from optimizer.cicd.targets import Prompt
    from optimizer.config import Config
    from optimizer.store import Store
    from optimizer.tasks.base import Example

MAX_ROWS = 1_000_000


def _text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"traffic file {path} not found; check the path")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"traffic file {path} is not UTF-8 (bad byte at offset {err.start}); "
                        "re-encode it as UTF-8") from None


def read_traffic(path: Path, input_col: str = "payload", max_chars: int = 8192) -> list[str]:
    """The inputs of an unlabeled traffic file, in file order (see the module contract)."""
    text = _text(path)
    suffix = path.suffix.lower()
    out: list[str] = []
    if suffix in {".jsonl", ".ndjson", ".json"}:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise DataError(f"{path} line {n} is not valid JSON; fix or delete that line "
                                "(nothing was stored)") from None
            if isinstance(row, dict):
                if input_col not in row:
                    raise DataError(f"{path} line {n} has no '{input_col}' field; pass "
                                    "--input-col NAME (nothing was stored)")
                value = row[input_col]
            elif isinstance(row, str):
                value = row
            else:
                raise DataError(f"{path} line {n} is neither a JSON object nor a string "
                                "(nothing was stored)")
            out.append(value if isinstance(value, str) else json.dumps(value))
    elif suffix in {".csv", ".tsv"}:
        csv.field_size_limit(16 * 1024 * 1024)
        reader = csv.DictReader(io.StringIO(text, newline=""),
                                delimiter="\t" if suffix == ".tsv" else ",")
        try:
            if reader.fieldnames is None or input_col not in reader.fieldnames:
                cols = ", ".join(reader.fieldnames or [])
                raise DataError(f"{path} has no column '{input_col}' (columns: {cols or 'none'})"
                                "; pass --input-col NAME")
            for row in reader:
                if None in row:
                    raise DataError(f"{path} line {reader.line_num} has more fields than the "
                                    "header; fix the quoting (nothing was stored)")
                out.append(row[input_col] or "")
        except csv.Error as err:
            raise DataError(f"{path} line {reader.line_num} is not valid CSV ({err}); fix the "
                            "quoting (nothing was stored)") from None
    else:
        raise DataError(f"traffic file {path} has unknown type '{suffix}'; use .jsonl or .csv")
    if not out:
        raise DataError(f"traffic file {path} has no inputs; add one per line")
    if len(out) > MAX_ROWS:
        raise DataError(f"traffic file {path} has {len(out)} inputs (limit {MAX_ROWS}); "
                        "sample it")
    return [t[:max_chars] for t in out]


def _example(text: str) -> Example:
    from optimizer.tasks.base import Example

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return Example(id=f"sh-{digest}", input=text, label="")


@dataclass
class ShadowResult:
    summary: dict[str, Any]
    run_id: str
    candidate_id: str
    baseline_candidate_id: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary, "run_id": self.run_id, "candidate_id": self.candidate_id,
                "baseline_candidate_id": self.baseline_candidate_id}


def run_shadow(
    store: Store, config: Config, candidate: Prompt, baseline: Prompt, inputs: list[str], *,
    source: str, top: int = 10,
) -> ShadowResult:
    """Score both prompts on ``inputs``, summarize, store (see the module contract)."""
    from optimizer.evaluation.runner import evaluation_rows, predict
    from optimizer.wiring import build_gateway, gateway_stats, get_task

    task = get_task(config)
    uniq: dict[str, Example] = {}
    for t in inputs:
        ex = _example(t)
        uniq.setdefault(ex.id, ex)
    examples = list(uniq.values())
    gw = build_gateway(config, store)

    async def both() -> tuple[list[Any], list[Any]]:
        role = config.models.task
        c, b = await asyncio.gather(
            predict(gw, task, candidate.text, examples, role, tags={"shadow": "candidate"}),
            predict(gw, task, baseline.text, examples, role, tags={"shadow": "baseline"}))
        return c, b

    cp, bp = asyncio.run(both())
    by_id = {p.example.id: (p.predicted, q.predicted) for p, q in zip(cp, bp, strict=True)}
    freq = Counter(_example(t).id for t in inputs)
    rows = [by_id[_example(t).id] for t in inputs]
    agree = sum(1 for c, b in rows if c == b)
    cand_counts, base_counts = label_counts(c for c, _ in rows), label_counts(b for _, b in rows)
    neg = task.negative_label

    def priority(ex_id: str) -> tuple[int, int, str]:
        c, b = by_id[ex_id]
        flip = (c == neg) != (b == neg)
        return (0 if flip else 1, -freq[ex_id], ex_id)

    dis = sorted((i for i, (c, b) in by_id.items() if c != b), key=priority)
    summary = {
        "source": source, "n": len(inputs), "distinct": len(examples),
        "agreement": round(agree / len(inputs), 6),
        "js_divergence": round(js_divergence(cand_counts, base_counts), 6),
        "candidate_labels": dict(sorted(cand_counts.items())),
        "baseline_labels": dict(sorted(base_counts.items())),
        "disagreements": sum(1 for c, b in rows if c != b),
        "top_disagreements": [
            {"id": i, "input": uniq[i].input[:160], "candidate": by_id[i][0],
             "baseline": by_id[i][1], "count": freq[i]} for i in dis[:top]
        ],
        "candidate": {"source": candidate.source, "sha256": candidate.sha256},
        "baseline": {"source": baseline.source, "sha256": baseline.sha256},
    }
    with store.transaction():  # the run, its candidates and evaluations: all or nothing
        run_id = store.create_run(
            kind="shadow", name="shadow",
            config={"config": config.public_dict(), "base_dir": config.base_dir,
                    "inputs": source},
            seed=config.seed, task=task.name)
        ids = []
        for prompt, op in ((candidate, "manual"), (baseline, "baseline")):
            cid = prompt.candidate_id or store.add_candidate(
                run_id, prompt.text, generation=0, operator=op, state="evaluated").id
            ids.append(cid)
        for cid, preds in zip(ids, (cp, bp), strict=True):
            rows_ = [dataclasses.replace(r, label=None, correct=None, score=None)
                     for r in evaluation_rows(preds, run_id=run_id, candidate_id=cid,
                                              split="shadow")]
            store.add_evaluations(rows_)
        store.finish_run(run_id, "completed", {
            **summary, "candidate_id": ids[0], "baseline_candidate_id": ids[1],
            **gateway_stats(gw)})
    return ShadowResult(summary, run_id, ids[0], ids[1])


def latest_shadow(
    store: Store, candidate_sha: str, baseline_sha: str, limit: int = 1000
) -> dict[str, Any] | None:
    """Totals of the newest shadow run of exactly this candidate/baseline pair."""
    for run in store.list_runs(limit, kind="shadow", status="completed"):
        tot = dict(run.totals or {})
        if (tot.get("candidate", {}).get("sha256") == candidate_sha
                and tot.get("baseline", {}).get("sha256") == baseline_sha):
            return tot
    return None
