"""``breed report CANDIDATE``: the layered-validation report of one stored candidate.

Per-class recall, benign FP rate, cost-weighted score, robustness under evasion, injection flips
and verifier overturns (right / wrong) on a split of the candidate's run data (default ``test``)
or on a labeled file. The settings (models, validation, costs) come from the run's stored
config, or from ``--config``; every stage runs unless switched off. For a run that evolved
the verifier prompt, the candidate is scored as the verifier behind the run's classifier.
Nothing is written to the store except the gateway's response cache and call log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from optimizer.cli.options import db_option, json_option

if TYPE_CHECKING:
    from optimizer.config import Config


def _with_stages(config: Config) -> Config:
    from optimizer.config import parse_config

    raw = config.public_dict()
    v = raw.setdefault("validation", {})
    for stage in ("verifier", "adversary", "injection"):
        v.setdefault(stage, {})["enabled"] = True
    return parse_config(raw, base_dir=config.base_dir)


@click.command("report")
@click.argument("candidate_id", metavar="CANDIDATE")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Config for data, models and validation (default: the candidate's run).")
@click.option("--split", default="test", show_default=True,
              type=click.Choice(["train", "dev", "test", "regression"]))
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Report on a labeled CSV/JSONL file instead of a split.")
@click.option("--max-examples", type=int, default=None, help="Use only the first N examples.")
@click.option("--verifier/--no-verifier", default=True, help="Run the verifier stage.")
@click.option("--adversary/--no-adversary", default=True, help="Measure robustness.")
@click.option("--injection/--no-injection", default=True, help="Measure injection flips.")
@db_option
@json_option
def report_command(
    candidate_id: str, config_path: Path | None, split: str, dataset: Path | None,
    max_examples: int | None, verifier: bool, adversary: bool, injection: bool,
    db_url: str | None, as_json: bool,
) -> None:
    """Per-candidate validation report: recall per class, FP rate, robustness, flips, overturns."""
    import asyncio
    import json

    from optimizer.app import DatasetSpec, build_gateway, get_task, load_eval_examples
    from optimizer.config import load_config, parse_config
    from optimizer.store import open_store
    from optimizer.units import Shot, render_prompt_text
    from optimizer.validation.pipeline import candidate_report

    store = open_store(db_url or "sqlite:///breed.db", create=False)
    try:
        cand = store.get_candidate(candidate_id)
        stored = dict(store.get_run(cand.run_id).config)
        if config_path is not None:
            config = load_config(config_path)
        else:
            config = parse_config(stored["config"], base_dir=stored.get("base_dir", "."))
        scorer = None
        if config.validation.verifier.optimize:  # the candidate is a verifier prompt
            from optimizer.validation.pipeline import PipelineScorer

            scorer = PipelineScorer(build_gateway(config, store), get_task(config),
                                    config.models.task, config.models.verifier,
                                    str(stored.get("seed_prompt", "")))
            verifier = False  # its verdicts are the labels being reported
        config = _with_stages(config)
        task = get_task(config)
        spec = DatasetSpec(split=None if dataset else split, dataset=dataset,
                           max_examples=max_examples)
        split_name, examples = load_eval_examples(config, task, spec)
        text = render_prompt_text(cand.text, [Shot(s["input"], s["label"])
                                              for s in cand.context or []])
        gateway = scorer.gateway if scorer is not None else build_gateway(config, store)
        rep = asyncio.run(candidate_report(
            config, gateway, task, text, examples, scorer=scorer,
            tags={"report": cand.id}, verifier=verifier, adversary=adversary,
            injection=injection,
        ))
        stats = gateway.stats()
    finally:
        store.close()
    rep = {"candidate": cand.id, "run_id": cand.run_id, "split": split_name,
           "source": str(dataset) if dataset else split_name, **rep,
           "model_calls": stats.calls, "cache_hits": stats.cache_hits}
    if as_json:
        click.echo(json.dumps(rep, sort_keys=True, default=str))
    else:
        _render(rep)


def _pct(x: Any) -> str:
    return "  n/a" if x is None or x != x else f"{100 * float(x):5.1f}"


def _render(rep: dict[str, Any]) -> None:
    lines = [
        f"candidate {rep['candidate']} (run {rep['run_id']}) on {rep['source']}: "
        f"{rep['n']} examples",
        f"accuracy {_pct(rep['accuracy'])} %  macro-F1 {_pct(rep['macro_f1'])} %  "
        f"cost-weighted {_pct(rep['cost_weighted'])} %  attack recall "
        f"{_pct(rep['attack_recall'])} %  benign FP rate {_pct(rep['benign_fpr'])} %",
        "recall per class: " + ", ".join(f"{k} {_pct(v).strip()}"
                                         for k, v in rep["family_recall"].items()),
    ]
    if "robustness" in rep:
        r = rep["robustness"]
        lines.append(
            f"robustness {_pct(r['robustness'])} % ({r['survived']} of {r['variants']} evasive "
            f"variants of {r['detected']} detected attacks keep their label; still flagged as "
            f"an attack: {_pct(r['detection_robustness']).strip()} %)")
        lines.append("  by transform: " + ", ".join(
            f"{k} {v['survived']}/{v['n']}" for k, v in r["per_source"].items()))
    if "injection" in rep:
        i = rep["injection"]
        lines.append(
            f"injection flips {i['flips']} of {i['variants']} steered payloads "
            f"({i['to_benign']} to benign): " + ", ".join(
                f"{k} {v['flips']}/{v['n']}" for k, v in i["per_kind"].items()))
    if "verifier" in rep:
        v = rep["verifier"]
        lines.append(
            f"verifier overturns {v['overturns']} (right {v['right']}, wrong {v['wrong']}, "
            f"neutral {v['neutral']}); accuracy {_pct(v['accuracy_before']).strip()} % -> "
            f"{_pct(v['accuracy_after']).strip()} % after the verifier")
    lines.append(f"model calls {rep['model_calls']}  cache hits {rep['cache_hits']}")
    for line in lines:
        click.echo(line)
