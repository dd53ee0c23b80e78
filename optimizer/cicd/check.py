"""``breed check``: a prompt against its baseline on the regression suite and the test split.

Contracts:
- ``run_check`` scores the candidate and the baseline on the ``regression`` split (historical
  artifacts, some ``critical``) and the held-out ``test`` split through the gateway (cached),
  and returns a ``CheckResult``: newly failing cases (critical first), newly fixed cases,
  paired metric deltas with 95 % intervals per split, and the gate checks.
- The report is deterministic (seeded bootstrap, no ids, times or cache counters) and
  ``report_hash`` is the SHA-256 of its canonical JSON without the candidate's display name:
  the same prompt texts, data, baseline release and gate settings give the same hash.
  Reviews pin this hash; promotion recomputes it and requires the approval to match.
- ``persist=True`` stores a run of kind ``check`` (the report and hash in its totals), the
  prompts as candidates when they are not stored yet, and every evaluation. ``persist=False``
  (promotion) writes nothing but the gateway's response cache and call log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.cicd.gate import copied_fragment, gate_checks
from optimizer.cicd.stats import js_divergence, label_counts, paired_deltas
from optimizer.cicd.targets import Prompt
from optimizer.llm.types import content_hash

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.evaluation.runner import Prediction
    from optimizer.llm.gateway import Gateway
    from optimizer.store import Store
    from optimizer.tasks.base import Example, Task

log = logging.getLogger(__name__)

CHECK_SPLITS = ("regression", "test")
EXCERPT = 120


@dataclass
class CheckResult:
    report: dict[str, Any]
    report_hash: str
    passed: bool
    candidate_id: str | None = None
    baseline_candidate_id: str | None = None
    run_id: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, list[Example]] = field(default_factory=dict, repr=False)
    known: dict[str, set[str]] = field(default_factory=dict, repr=False)  # wrong in both

    @property
    def regressions(self) -> list[dict[str, Any]]:
        """Every newly failing case of every split, critical first."""
        cases = [c for s in CHECK_SPLITS for c in self.report["splits"][s]["newly_failing"]]
        return sorted(cases, key=lambda c: (not c["critical"], CHECK_SPLITS.index(c["split"]),
                                            c["id"]))

    def as_dict(self) -> dict[str, Any]:
        return {**self.report, "report_hash": self.report_hash, "passed": self.passed,
                "candidate_id": self.candidate_id,
                "baseline_candidate_id": self.baseline_candidate_id, "run_id": self.run_id,
                "regressions": len(self.regressions), **self.stats}


def _case(p: Prediction, base: Prediction, split: str) -> dict[str, Any]:
    ex = p.example
    return {
        "id": ex.id, "split": split, "label": ex.label, "candidate": p.predicted,
        "baseline": base.predicted, "critical": ex.critical,
        "first_seen": ex.meta.get("first_seen"), "incident": ex.meta.get("incident"),
        "input": ex.input[:EXCERPT],
    }


def _prompt_info(p: Prompt) -> dict[str, Any]:
    info: dict[str, Any] = {"source": p.source, "sha256": p.sha256, "chars": len(p.text)}
    if p.release is not None:
        info["release"] = {"name": p.release.name, "version": p.release.version}
    return info


def load_check_data(config: Config, task: Task) -> dict[str, list[Example]]:
    """The regression and test splits of the config's data folder."""
    from optimizer.errors import DataError
    from optimizer.tasks.loaders import load_split
    from optimizer.wiring import data_folder

    folder = data_folder(config)
    out = {}
    for split in CHECK_SPLITS:
        if not (folder / f"{split}.jsonl").is_file():
            raise DataError(f"{folder} has no {split}.jsonl; breed check needs the regression "
                            "and test splits")
        out[split] = load_split(folder, split, task, config.data.max_input_chars)
    return out


def _training_examples(config: Config, task: Task) -> list[Example]:
    from optimizer.tasks.loaders import load_split
    from optimizer.wiring import data_folder

    folder = data_folder(config)
    if not (folder / "train.jsonl").is_file():
        return []
    return load_split(folder, "train", task, config.data.max_input_chars)


def _robustness(
    config: Config, gw: Gateway, task: Task, candidate: Prompt, baseline: Prompt,
    preds: tuple[list[Prediction], list[Prediction]],
) -> tuple[tuple[float, float] | None, str]:
    """Robustness of both prompts on evasive variants of the test attacks."""
    try:
        from optimizer.cicd.robustness import measure
    except ImportError:  # the validation package is optional at this layer
        return None, "skipped: optimizer.validation is not available"
    r, note = asyncio.run(measure(config, gw, task, candidate.text, baseline.text, *preds))
    return ((round(r[0], 6), round(r[1], 6)) if r else None), note


def _drift(
    store: Store, candidate: Prompt, baseline: Prompt, preds: dict[str, tuple[list, list]]
) -> tuple[float, str]:
    """JS shift of the newest shadow run of this pair, else of the test+regression labels."""
    from optimizer.cicd.shadow import latest_shadow

    shadow = latest_shadow(store, candidate.sha256, baseline.sha256)
    if shadow is not None:
        return float(shadow["js_divergence"]), f"shadow traffic ({shadow['n']} inputs)"
    cand = [p.predicted for s in CHECK_SPLITS for p in preds[s][0]]
    base = [p.predicted for s in CHECK_SPLITS for p in preds[s][1]]
    return js_divergence(label_counts(cand), label_counts(base)), "the regression+test inputs"


def run_check(
    store: Store,
    config: Config,
    candidate: Prompt,
    baseline: Prompt,
    *,
    gateway: Gateway | None = None,
    persist: bool = True,
    name: str = "check",
) -> CheckResult:
    """Score, compare and gate (see the module contract)."""
    from optimizer.evaluation.runner import predict
    from optimizer.wiring import build_gateway, gateway_stats, get_task

    task = get_task(config)
    data = load_check_data(config, task)
    gw = gateway or build_gateway(config, store)
    role = config.models.task

    async def score_all() -> dict[str, tuple[list[Prediction], list[Prediction]]]:
        out = {}
        for split, examples in data.items():
            c, b = await asyncio.gather(
                predict(gw, task, candidate.text, examples, role, tags={"check": "candidate"}),
                predict(gw, task, baseline.text, examples, role, tags={"check": "baseline"}))
            out[split] = (c, b)
        return out

    preds = asyncio.run(score_all())
    splits: dict[str, Any] = {}
    for i, split in enumerate(CHECK_SPLITS):
        cp, bp = preds[split]
        failing = [_case(c, b, split) for c, b in zip(cp, bp, strict=True)
                   if b.correct and not c.correct]
        failing.sort(key=lambda c: (not c["critical"], c["id"]))
        fixed = [{"id": c.example.id, "split": split, "label": c.example.label,
                  "critical": c.example.critical}
                 for c, b in zip(cp, bp, strict=True) if c.correct and not b.correct]
        deltas = paired_deltas(
            [p.example.label for p in cp], [p.predicted for p in cp], [p.predicted for p in bp],
            task.labels, task.negative_label or "", n_boot=config.gate.bootstrap,
            rng=np.random.default_rng([config.seed, 7919, i]))
        splits[split] = {
            "n": len(cp), "newly_failing": failing, "newly_fixed": fixed,
            "known_failures": sum(1 for c, b in zip(cp, bp, strict=True)
                                  if not c.correct and not b.correct),
            "critical_total": sum(1 for c in cp if c.example.critical),
            "deltas": [d.as_dict() for d in deltas],
        }
    acc = next(d for d in splits["test"]["deltas"] if d["metric"] == "accuracy")
    failing_all = [c for s in CHECK_SPLITS for c in splits[s]["newly_failing"]]
    robustness, robust_note = _robustness(config, gw, task, candidate, baseline,
                                           preds["test"])
    drift, drift_source = _drift(store, candidate, baseline, preds)
    checks = gate_checks(
        config.gate, gain=acc["delta"] if acc["delta"] is not None else float("nan"),
        gain_ci=tuple(float("nan") if x is None else x for x in acc["ci"]),  # type: ignore[arg-type]
        critical=[c for c in failing_all if c["critical"]],
        others=[c for c in failing_all if not c["critical"]],
        robustness=robustness, robustness_note=robust_note, drift=drift,
        drift_source=drift_source, prompt_chars=len(candidate.text),
        copied=copied_fragment(candidate.text, _training_examples(config, task),
                               config.gate.copy_chars),
    )
    passed = not any(c.failed for c in checks)
    report = {
        "candidate": _prompt_info(candidate), "baseline": _prompt_info(baseline),
        "task_model": role.model, "splits": splits,
        "gate": {"passed": passed, "checks": [c.as_dict() for c in checks],
                 "settings": config.gate.model_dump(mode="json")},
    }
    result = CheckResult(report, report_hash(report), passed, candidate.candidate_id,
                         baseline.candidate_id, examples=data)
    result.known = {s: {c.example.id for c, b in zip(*preds[s], strict=True)
                        if not c.correct and not b.correct} for s in CHECK_SPLITS}
    if persist:
        _persist(store, config, task, result, candidate, baseline, preds, name)
    result.stats = gateway_stats(gw)
    return result


def report_hash(report: dict[str, Any]) -> str:
    """SHA-256 of the report's evidence: everything but how the candidate was named (a prompt
    file checked now is the stored candidate promoted later; its text hash is included)."""
    cand = {k: v for k, v in report["candidate"].items() if k != "source"}
    return content_hash({**report, "candidate": cand})


def _persist(
    store: Store, config: Config, task: Task, result: CheckResult, candidate: Prompt,
    baseline: Prompt, preds: dict[str, tuple[list[Prediction], list[Prediction]]], name: str,
) -> None:
    from optimizer.evaluation.runner import evaluation_rows

    with store.transaction():  # the run, its candidates and evaluations: all or nothing
        run_id = store.create_run(
            kind="check", name=name,
            config={"config": config.public_dict(), "base_dir": config.base_dir,
                    "candidate_sha256": candidate.sha256, "baseline_sha256": baseline.sha256},
            seed=config.seed, task=task.name,
        )
        ids = []
        for prompt, op in ((candidate, "manual"), (baseline, "baseline")):
            cid = prompt.candidate_id
            if cid is None:
                cid = store.add_candidate(run_id, prompt.text, generation=0, operator=op,
                                          state="evaluated").id
            ids.append(cid)
        for split in CHECK_SPLITS:
            for cid, plist in zip(ids, preds[split], strict=True):
                store.add_evaluations(evaluation_rows(plist, run_id=run_id, candidate_id=cid,
                                                      split=split))
        result.candidate_id, result.baseline_candidate_id, result.run_id = ids[0], ids[1], run_id
        if candidate.candidate_id is None:
            result.report["candidate"]["source"] = f"candidate {ids[0]} (from prompt text)"
        store.finish_run(run_id, "completed", {
            "candidate_id": ids[0], "baseline_candidate_id": ids[1],
            "report_hash": result.report_hash, "passed": result.passed,
            "regressions": len(result.regressions), "report": result.report,
        })


def latest_check(store: Store, candidate_id: str, limit: int = 1000) -> dict[str, Any] | None:
    """Totals of the newest completed check run of ``candidate_id`` (None if never checked)."""
    for run in store.list_runs(limit, kind="check", status="completed"):
        tot = dict(run.totals or {})
        if tot.get("candidate_id") == candidate_id:
            return {**tot, "run_id": run.id}
    return None
