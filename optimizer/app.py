"""Application layer: config + task + data + store + gateway wired together.

The CLI and the Python API (``optimizer.run``) call these functions; they hold no state of their
own. Contracts: every function either returns its result or raises an ``OptimizerError`` with a
one-line message naming the fix; nothing here prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optimizer.config import Config, load_config
from optimizer.errors import ConfigError, DataError
from optimizer.tasks.base import Example, Task
from optimizer.wiring import (
    Splits,
    build_gateway,
    data_folder,
    gateway_stats,
    get_task,
    load_splits,
    open_config_store,
    read_prompt,
)

if TYPE_CHECKING:
    from optimizer.engine.summary import Progress, RunSummary
    from optimizer.evaluation.metrics import Report

__all__ = [
    "DatasetSpec",
    "EvalSummary",
    "Splits",
    "build_gateway",
    "evaluate_prompt",
    "get_task",
    "load_config",
    "load_splits",
    "open_config_store",
    "read_prompt",
    "resume_run",
    "start_run",
]

@dataclass(frozen=True)
class DatasetSpec:
    """Which examples ``breed eval`` scores: a split or a labeled file."""

    split: str | None = None
    dataset: Path | None = None
    input_col: str | None = None
    label_col: str | None = None
    label_map: str | None = None
    max_examples: int | None = None


def load_eval_examples(config: Config, task: Task, spec: DatasetSpec) -> tuple[str, list[Example]]:
    """(store split name, examples) for ``breed eval``."""
    from optimizer.tasks.loaders import load_file, load_split, parse_label_map

    if spec.dataset is not None:
        d = config.data
        examples = load_file(
            spec.dataset,
            task,
            input_col=spec.input_col or d.input_col,
            label_col=spec.label_col or d.label_col,
            id_col=d.id_col,
            label_map={**d.label_map, **parse_label_map(spec.label_map)},
            max_input_chars=d.max_input_chars,
        )
        split, source = "dataset", str(spec.dataset)
    else:
        split = spec.split or config.eval.split
        examples = load_split(data_folder(config), split, task, config.data.max_input_chars)
        source = f"{config.data.path}/{split}.jsonl"
    limit = spec.max_examples or config.eval.max_examples
    if limit:
        examples = examples[:limit]
    if not examples:
        raise DataError(f"{source} has no examples to score; pick another split or file")
    return split, examples


@dataclass
class EvalSummary:
    run_id: str
    candidate_id: str
    store_url: str
    source: str
    split: str
    report: Report
    stats: dict[str, Any] = field(default_factory=dict)
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "candidate_id": self.candidate_id,
            "source": self.source,
            "split": self.split,
            **self.report.as_dict(),
            **self.stats,
            "errors": self.errors,
        }


def evaluate_prompt(
    config: Config,
    prompt: str,
    spec: DatasetSpec,
    *,
    db_url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalSummary:
    """Score one prompt and store the run, the candidate and every evaluation."""
    import numpy as np

    from optimizer.evaluation.metrics import evaluate
    from optimizer.evaluation.runner import evaluation_rows, predict

    task = get_task(config)
    split, examples = load_eval_examples(config, task, spec)
    store = open_config_store(config, db_url)
    try:
        gateway = build_gateway(config, store)
        run_id = store.create_run(
            kind="eval", name="eval", config={"config": config.public_dict(),
                                              "base_dir": config.base_dir},
            seed=config.seed, task=task.name,
        )
        cand = store.add_candidate(run_id, prompt, generation=0, operator="manual",
                                   state="evaluated")
        try:
            preds = asyncio.run(
                predict(gateway, task, prompt, examples, config.models.task,
                        tags={"run_id": run_id}, progress=progress)
            )
        except BaseException:
            store.finish_run(run_id, "failed", gateway_stats(gateway))
            raise
        report = evaluate(
            [p.example.label for p in preds],
            [p.predicted for p in preds],
            task.labels,
            task.negative_label or "",
            n_boot=config.eval.bootstrap,
            rng=np.random.default_rng(config.seed),
        )
        with store.transaction():
            store.add_evaluations(
                evaluation_rows(preds, run_id=run_id, candidate_id=cand.id, split=split)
            )
            store.update_candidate(cand.id, fitness=report.accuracy, dev_score=report.accuracy)
            stats = gateway_stats(gateway)
            store.finish_run(run_id, "completed", {**stats, "accuracy": report.accuracy})
        source = str(spec.dataset) if spec.dataset else f"split {split}"
        return EvalSummary(run_id, cand.id, store.url, source, split, report, stats,
                           errors=sum(1 for p in preds if p.error))
    finally:
        store.close()


def start_run(
    config: Config,
    *,
    db_url: str | None = None,
    name: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    handle_signals: bool = False,
    from_reviews: bool = False,
) -> RunSummary:
    """Run the evolution described by ``config`` to its end (see ``optimizer.engine.run``).

    ``from_reviews``: the store's review comments become extra mutation-prompts of the run
    (``optimizer.cicd.review.review_mutation_prompts``), stored with the run for resume.
    """
    from optimizer.engine.run import Runner

    task = get_task(config)
    splits = load_splits(config, task)
    prompt = read_prompt(None, config)
    store = open_config_store(config, db_url)
    try:
        extra: tuple[str, ...] = ()
        if from_reviews:
            from optimizer.cicd.review import review_mutation_prompts

            extra = tuple(review_mutation_prompts(store))
            if not extra:
                raise ConfigError("--from-reviews: the store has no review comments yet; add "
                                  "some with breed review CANDIDATE --comment TEXT")
        runner = Runner(config, task, splits, store, build_gateway(config, store),
                        on_progress=on_progress, handle_signals=handle_signals,
                        extra_mutation_prompts=extra)
        return asyncio.run(runner.start(prompt, name=name))
    finally:
        store.close()


def resume_run(
    run_id: str,
    *,
    db_url: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    handle_signals: bool = False,
) -> RunSummary:
    """Continue a run from its last committed generation, with the config it was started with."""
    from optimizer.config import parse_config
    from optimizer.engine.run import Runner
    from optimizer.store import open_store

    store = open_store(db_url or "sqlite:///breed.db")
    try:
        run = store.get_run(run_id)
        if run.kind != "run":
            raise ConfigError(f"run {run.id} is a {run.kind}, not an evolution run")
        if run.status == "completed":
            raise ConfigError(f"run {run.id} already completed; start a new one with breed run")
        stored = dict(run.config)
        config = parse_config(stored["config"], base_dir=stored.get("base_dir", "."))
        task = get_task(config)
        splits = load_splits(config, task)
        runner = Runner(config, task, splits, store,
                        build_gateway(config, store, used=dict(run.totals or {})),
                        on_progress=on_progress, handle_signals=handle_signals,
                        extra_mutation_prompts=tuple(stored.get("extra_mutation_prompts", ())))
        return asyncio.run(runner.resume(run.id, stored.get("seed_prompt", "")))
    finally:
        store.close()
